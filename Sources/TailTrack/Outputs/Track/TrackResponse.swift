import Foundation

/// Turns Track's answer (status, `Retry-After`, body) into a ``TrackOutcome``.
///
/// Separate from the client so that every response class is testable without a network.
public enum TrackResponse {
    /// Classifies a response. `now` is used only for a `Retry-After` given as an HTTP date.
    public static func classify(status: Int, retryAfter: String?, body: [UInt8], now: Date = Date()) -> TrackOutcome {
        switch status {
        case 200..<300:
            let errors = itemErrors(in: body)
            return errors.isEmpty ? .accepted(status: status) : .partiallyRejected(status: status, errors)
        case 300..<400:
            return .misconfigured(
                DeliveryError(
                    status: status,
                    code: .redirected,
                    message: "Track redirected the request, which is not followed; check track.region and track.url"
                )
            )
        case 400, 422:
            return .badRequest(
                DeliveryError(
                    status: status, code: .badRequest, message: summary(of: body, otherwise: "request rejected"))
            )
        case 401, 403:
            return .unauthorized(
                DeliveryError(
                    status: status,
                    code: .unauthorized,
                    message: "Track refused the credentials; check track.site_id and track.api_key (and the region)"
                )
            )
        case 413:
            return .tooLarge(
                DeliveryError(status: status, code: .tooLarge, message: "request body too large; it will be split")
            )
        case 408, 425, 429:
            let code: DeliveryError.Code = status == 429 ? .rateLimited : .timeout
            return .retryable(
                DeliveryError(status: status, code: code, message: summary(of: body, otherwise: "try again later")),
                retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) }
            )
        case 500..<600:
            return .retryable(
                DeliveryError(
                    status: status, code: .serverError, message: summary(of: body, otherwise: "server error")),
                retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) }
            )
        default:
            return .misconfigured(
                DeliveryError(
                    status: status,
                    code: .misconfigured,
                    message: "unexpected answer from \(TrackClient.batchPath); check track.url"
                )
            )
        }
    }

    /// The `errors[]` of a 2xx body that carry a `batch_index`; empty for an empty or
    /// unparseable body.
    public static func itemErrors(in body: [UInt8]) -> [TrackItemError] {
        // A body without the word is Track's usual `{}`: no JSON parser runs for it, so a
        // steady stream of accepted batches keeps no parser code resident.
        guard containsErrorsKey(body),
            let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let errors = object["errors"] as? [Any]
        else { return [] }
        return errors.compactMap { entry in
            guard let entry = entry as? [String: Any], let index = (entry["batch_index"] as? NSNumber)?.intValue else {
                return nil
            }
            return TrackItemError(
                batchIndex: index,
                reason: text(entry["reason"]),
                field: text(entry["field"]),
                message: text(entry["message"])
            )
        }
    }

    /// True when `body` holds `"errors"` (the only key ``itemErrors(in:)`` reads).
    static func containsErrorsKey(_ body: [UInt8]) -> Bool {
        let key: [UInt8] = Array("\"errors\"".utf8)
        guard body.count >= key.count else { return false }
        // Bodies are small (a few KB at most): a plain search.
        for start in 0...(body.count - key.count) where body[start] == key[0] {
            if body[start..<start + key.count].elementsEqual(key) { return true }
        }
        return false
    }

    /// Seconds from now that a `Retry-After` value (delta-seconds or an HTTP date) asks for.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) {
            return .seconds(max(0, seconds))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A short rendering of an error body (Track's `errors[].message`, `meta.errors[]`), at
    /// most 300 characters; `fallback` when there is nothing useful.
    static func summary(of body: [UInt8], otherwise fallback: String) -> String {
        guard !body.isEmpty else { return fallback }
        var parts: [String] = []
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            if let errors = object["errors"] as? [Any] {
                for entry in errors {
                    if let entry = entry as? [String: Any] {
                        let words = [text(entry["reason"]), text(entry["field"]), text(entry["message"])]
                        parts.append(words.filter { !$0.isEmpty }.joined(separator: ": "))
                    } else if let entry = entry as? String {
                        parts.append(entry)
                    }
                }
            }
            if let meta = object["meta"] as? [String: Any], let errors = meta["errors"] as? [Any] {
                parts.append(contentsOf: errors.compactMap { $0 as? String })
            }
        } else {
            parts.append(String(decoding: body.prefix(300), as: UTF8.self))
        }
        let joined = parts.filter { !$0.isEmpty }.joined(separator: "; ")
        if joined.isEmpty { return fallback }
        return joined.count > 300 ? String(joined.prefix(300)) + "…" : joined
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }
}
