// cohortsync-upload-x: the upload engine wired to the X Ads API; nothing more.
import Upload

await UploadCommand.run(.x)
