/// Configuration files for stage tests: one X and one TikTok connection, syncs for a few audiences.
public enum TestConfigs {
    /// `aud_x` syncs to X only, `aud_both` to X and TikTok, `aud_tiktok` to TikTok only; `aud_none` has no sync.
    public static let standard = """
        {
          "connections": [
            {"id": "x-main", "destination": "x", "account": "acc1", "defaultRegion": "US",
             "credentials": {"consumerKey": {"env": "XK"}, "consumerSecret": {"env": "XS"}, "token": {"env": "XT"}, "tokenSecret": {"env": "XTS"}},
             "forward": ["email", "phone", "idfa", "gaid", "android_id", "x_handle", "x_id"]},
            {"id": "tiktok-eu", "destination": "tiktok", "advertiser": "adv1", "defaultRegion": "GB",
             "credentials": {"accessToken": {"env": "TT"}}, "forward": ["email", "phone", "gaid"]}
          ],
          "syncs": [
            {"audience": "aud_x", "connection": "x-main"},
            {"audience": "aud_both", "connection": "x-main"},
            {"audience": "aud_both", "connection": "tiktok-eu"},
            {"audience": "aud_tiktok", "connection": "tiktok-eu"}
          ]
        }
        """
}
