/// The file tailer is the agent's file input: it already reads, acknowledges and reports as
/// every ``LineInput`` must.
extension Tailer: LineInput {}
