// cohortsync-upload-tiktok: the upload engine wired to the TikTok Business API; nothing more.
import Upload

await UploadCommand.run(.tiktok)
