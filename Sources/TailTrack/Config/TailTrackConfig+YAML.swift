// STUB: owned by the config helper; replaced with the real loader.

extension TailTrackConfig {
    /// Loads and validates the config at `path`, expanding `${VAR}` from `environment` and
    /// `rules: - include:` globs. Throws every problem found at once.
    public static func load(path: String, environment: [String: String]) throws(ConfigErrors) -> TailTrackConfig {
        throw ConfigErrors([ConfigError(file: path, line: nil, keyPath: nil, message: "not implemented")])
    }
}
