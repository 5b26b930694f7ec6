import Logging

/// What the ``Batcher`` tells the operator about requests to an API: a failure that pauses
/// every request, the API answering again, and a refusal (credentials or endpoint wrong),
/// logged once as an error and then quietly until the API takes something again.
struct DeliveryLog {
    let logger: Logger
    /// What the messages call the API: `Track`.
    let apiName: String
    /// The refusal has been logged as an error; later ones go at debug level.
    private var refusalLogged = false

    init(logger: Logger, apiName: String) {
        self.logger = logger
        self.apiName = apiName
    }

    /// A retryable failure paused every request for `delay`: at notice level for the first
    /// failure in a row, then at debug.
    func paused(after error: DeliveryError, delay: Duration, failures: Int, bodyBytes: Int) {
        logger.log(
            level: failures == 1 ? .notice : .debug,
            "request to \(apiName) failed; retrying",
            metadata: [
                DeliveryLogKey.status: "\(error.status.map(String.init) ?? "-")",
                DeliveryLogKey.errorCode: "\(error.code.rawValue)",
                DeliveryLogKey.error: "\(error)",
                DeliveryLogKey.batchBytes: "\(bodyBytes)",
                DeliveryLogKey.retryDelay: "\(delay)",
                DeliveryLogKey.failures: "\(failures)",
            ]
        )
    }

    /// The API answered after `failures` retryable failures in a row.
    func recovered(failures: Int) {
        logger.notice("\(apiName) answers again", metadata: [DeliveryLogKey.failures: "\(failures)"])
    }

    /// The API refused a request; it is retried after `retryDelay`.
    mutating func refused(_ error: DeliveryError, retryDelay: Duration) {
        let metadata: Logger.Metadata = [
            DeliveryLogKey.status: "\(error.status.map(String.init) ?? "-")",
            DeliveryLogKey.errorCode: "\(error.code.rawValue)",
            DeliveryLogKey.error: "\(error)",
            DeliveryLogKey.retryDelay: "\(retryDelay)",
        ]
        if refusalLogged {
            logger.debug("\(apiName) still refuses requests; retrying", metadata: metadata)
        } else {
            refusalLogged = true
            logger.error(
                "\(apiName) refuses every request; nothing is delivered until the config is fixed",
                metadata: metadata
            )
        }
    }

    /// The API took a request (accepted or rejected its operations): a later refusal is news.
    mutating func answered() {
        refusalLogged = false
    }
}
