/// The agent's version, defined once: sent to Track in `User-Agent` and shown by the CLI.
public enum TailTrackVersion {
    /// Semantic version of this build.
    public static let string = "0.1.0"
}
