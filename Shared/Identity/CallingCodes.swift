/// Country calling codes by ISO 3166 region, for phone numbers written without a country code.
///
/// Covers the regions ad platforms serve most; a connection's `defaultRegion` must be one of these
/// (configuration validation says so by name).
public enum CallingCodes {
    public static let byRegion: [String: String] = [
        "US": "1", "CA": "1", "PR": "1", "GB": "44", "IE": "353", "DE": "49", "FR": "33", "ES": "34", "IT": "39",
        "PT": "351", "NL": "31", "BE": "32", "LU": "352", "CH": "41", "AT": "43", "DK": "45", "SE": "46", "NO": "47",
        "FI": "358", "IS": "354", "PL": "48", "CZ": "420", "SK": "421", "HU": "36", "RO": "40", "BG": "359", "GR": "30",
        "HR": "385", "SI": "386", "EE": "372", "LV": "371", "LT": "370", "UA": "380", "TR": "90", "IL": "972",
        "AE": "971", "SA": "966", "EG": "20", "ZA": "27", "NG": "234", "KE": "254", "MA": "212", "IN": "91", "PK": "92",
        "BD": "880", "CN": "86", "HK": "852", "TW": "886", "JP": "81", "KR": "82", "SG": "65", "MY": "60", "TH": "66",
        "VN": "84", "PH": "63", "ID": "62", "AU": "61", "NZ": "64", "MX": "52", "BR": "55", "AR": "54", "CL": "56",
        "CO": "57", "PE": "51",
    ]
}
