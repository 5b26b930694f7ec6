import Logging

/// The other ways to make a ``Batcher``: from the agent's config, and with an `acknowledge`
/// called once per file (what most tests use).
extension Batcher {
    /// - Parameters:
    ///   - acknowledge: called with a file and the offset up to which everything is delivered,
    ///     in order per file (the tailer's `acknowledge`).
    public init(
        batch: BatchSettings,
        retry: RetryPolicy,
        deadLetters: DeadLetterWriter,
        client: any BatchAPI,
        clock: DeliveryClock = .continuous,
        logger: Logger,
        acknowledge: @escaping @Sendable (FileKey, UInt64) async -> Void
    ) {
        self.init(
            batch: batch, retry: retry, deadLetters: deadLetters, client: client, clock: clock, logger: logger,
            acknowledgeAll: { acknowledgements in
                for acknowledgement in acknowledgements {
                    await acknowledge(acknowledgement.file, acknowledgement.endOffset)
                }
            })
    }

    /// A batcher for `config` sending through `client`.
    public init(
        config: TailTrackConfig,
        client: any BatchAPI,
        logger: Logger,
        acknowledgeAll: @escaping @Sendable ([AcknowledgementTracker.Acknowledgement]) async -> Void
    ) {
        self.init(
            batch: config.batch,
            retry: RetryPolicy(settings: config.retry),
            deadLetters: DeadLetterWriter(stateDirectory: config.stateDirectory, settings: config.deadLetter),
            client: client,
            logger: logger,
            acknowledgeAll: acknowledgeAll
        )
    }
}
