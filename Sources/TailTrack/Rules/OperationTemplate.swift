/// Where an operation's `timestamp` (and an event id's time) comes from.
struct TimestampSource: Sendable {
    var field: FieldReference
    var format: TimestampFormat
    var formatName: String
}

/// A rule's `operation:`, compiled: builds and validates one operation per matching line.
///
/// This is the reference way to build an operation: the byte encoder (``OperationEncoder``)
/// must produce exactly its bytes, and leaves to it every operation it does not handle,
/// including every one that is rejected, whose reason only this words.
struct OperationTemplate: Sendable {
    /// The entity type and action, and what Track accepts for them.
    var shape: TrackOperationShape
    var identifiers: ValueTemplate?
    var name: Template?
    var timestamp: TimestampSource?
    var attributes: ValueTemplate?
    var relationships: ValueTemplate?
    var device: ValueTemplate?
    var primary: ValueTemplate?
    var secondary: ValueTemplate?

    var type: EntityType { shape.type }
    var action: String { shape.action }

    init(shape: TrackOperationShape) {
        self.shape = shape
    }

    /// Where the line is, for the operation id.
    struct Origin {
        var fingerprint: FileFingerprint
        var offset: UInt64
        var rule: String
        /// Unix seconds at which the line was read: the timestamp when the rule parses none.
        var readTime: Int64
    }

    /// Why an operation was not built: a reason for the dead letter, and what was built so far.
    struct Rejection: Error {
        var reason: String
        var partial: JSONValue
    }

    /// Builds the operation for a matching line and validates it as Track would.
    func build(_ line: borrowing LineContext, origin: Origin) -> Result<JSONValue, Rejection> {
        var members: [JSONMember] = [JSONMember("type", .string(type.rawValue)), JSONMember("action", .string(action))]
        do throws(Rejection) {
            if let identifiers {
                members.append(JSONMember("identifiers", try renderIdentifiers(identifiers, line, members)))
            }
            let eventTime = try eventTimeMilliseconds(line, members)
            if shape.carriesID {
                let id = OperationID.make(
                    fingerprint: origin.fingerprint,
                    offset: origin.offset,
                    line: line.line,
                    rule: origin.rule,
                    eventTimeMilliseconds: eventTime
                )
                members.append(JSONMember("id", .string(id)))
            }
            if let name {
                members.append(JSONMember("name", .string(try renderName(name, line, members))))
            }
            if shape.takesTimestamp {
                let seconds = eventTime.map { $0.floorDividedBy(1000) } ?? origin.readTime
                guard TrackLimits.allowsTimestamp(seconds: seconds) else {
                    throw Rejection(
                        reason:
                            "timestamp \(seconds) is not plausible unix seconds (expected 2000…2100); check the timestamp format",
                        partial: .object(members)
                    )
                }
                members.append(JSONMember("timestamp", .int(seconds)))
            }
            if let attributes {
                members.append(JSONMember("attributes", try renderAttributes(attributes, line, members)))
            }
            if let device {
                members.append(JSONMember("device", try renderDevice(device, line, members)))
            }
            if let relationships {
                members.append(JSONMember("cio_relationships", try renderRelationships(relationships, line, members)))
            }
            if let primary {
                members.append(JSONMember("primary", try renderMergeSide(primary, "primary", line, members)))
            }
            if let secondary {
                members.append(JSONMember("secondary", try renderMergeSide(secondary, "secondary", line, members)))
            }
        } catch {
            return .failure(error)
        }
        return .success(.object(members))
    }

    // MARK: - Parts

    private func render(
        _ template: ValueTemplate,
        _ line: borrowing LineContext,
        _ members: [JSONMember],
        _ part: String
    ) throws(Rejection) -> JSONValue? {
        do {
            return try template.render(line)
        } catch {
            throw Rejection(reason: "\(part): \(error.message)", partial: .object(members))
        }
    }

    private func renderIdentifiers(
        _ template: ValueTemplate,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        let value = try render(template, line, members, "identifiers") ?? .object([])
        switch type {
        case .person:
            return try personIdentifiers(
                value, allowed: TrackOperationShape.personIdentifiers, part: "identifiers", members)
        case .object:
            if action == "identify_anonymous" {
                return try nonEmptyStrings(
                    value, required: TrackOperationShape.anonymousObjectIdentifiers, part: "identifiers", members)
            }
            return try objectIdentifiers(value, part: "identifiers", members)
        case .delivery:
            return try nonEmptyStrings(
                value, required: TrackOperationShape.deliveryIdentifiers, part: "identifiers", members)
        }
    }

    private func eventTimeMilliseconds(
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> Int64? {
        guard let timestamp else { return nil }
        // A line without the field (or with `null`) has no event time: like a rule without
        // `timestamp:`, the operation gets the time the line was read.
        guard let value = line.value(of: timestamp.field), value != .null else { return nil }
        guard let milliseconds = timestamp.format.parse(value) else {
            throw Rejection(
                reason:
                    "timestamp field \(timestamp.field): \"\(value.templateText)\" does not match format \(timestamp.formatName)",
                partial: .object(members)
            )
        }
        return milliseconds
    }

    private func renderName(
        _ template: Template,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> String {
        let text: String
        do {
            text = try template.render(line)?.templateText ?? ""
        } catch {
            throw Rejection(reason: "name: \(error.message)", partial: .object(members))
        }
        guard !text.isEmpty else {
            throw Rejection(reason: "name is empty", partial: .object(members))
        }
        if type == .delivery, !TrackOperationShape.deliveryEvents.contains(text) {
            throw Rejection(
                reason: "name \"\(text)\" is not a delivery event (opened, converted, delivered)",
                partial: .object(members)
            )
        }
        guard TrackLimits.allowsEventName(bytes: text.utf8.count) else {
            throw Rejection(
                reason: "name is \(text.utf8.count) bytes; Track allows \(TrackLimits.eventNameBytes)",
                partial: .object(members)
            )
        }
        return text
    }

    private func renderAttributes(
        _ template: ValueTemplate,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        let value = try render(template, line, members, "attributes") ?? .object([])
        guard case .object(let attributes) = value else {
            throw Rejection(reason: "attributes must be a mapping", partial: .object(members))
        }
        guard TrackLimits.allowsAttributes(count: attributes.count) else {
            throw Rejection(
                reason: "\(attributes.count) attributes; Track allows \(TrackLimits.attributeCount)",
                partial: .object(members)
            )
        }
        for attribute in attributes {
            guard TrackLimits.allowsAttributeName(bytes: attribute.key.utf8.count) else {
                throw Rejection(
                    reason:
                        "attribute name \"\(attribute.key.prefix(40))…\" is \(attribute.key.utf8.count) bytes; Track allows \(TrackLimits.attributeNameBytes)",
                    partial: .object(members)
                )
            }
            let size = TrackLimits.attributeValueSize(of: attribute.value)
            guard TrackLimits.allowsAttributeValue(size: size) else {
                throw Rejection(
                    reason:
                        "attribute \(attribute.key) is \(size) bytes; Track allows \(TrackLimits.attributeValueBytes)",
                    partial: .object(members)
                )
            }
        }
        if type == .delivery {
            guard case .string(let token)? = value["device_token"], !token.isEmpty else {
                throw Rejection(reason: "delivery events need attributes.device_token", partial: .object(members))
            }
        }
        return value
    }

    private func renderDevice(
        _ template: ValueTemplate,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        let value = try render(template, line, members, "device") ?? .object([])
        guard case .object(var fields) = value else {
            throw Rejection(reason: "device must be a mapping", partial: .object(members))
        }
        guard let token = value["token"], !token.templateText.isEmpty else {
            throw Rejection(reason: "device.token is missing or empty", partial: .object(members))
        }
        if action == "delete_device" {
            return .object([JSONMember("token", .string(token.templateText))])
        }
        guard let platform = value["platform"]?.templateText, TrackOperationShape.devicePlatforms.contains(platform)
        else {
            let shown = value["platform"]?.templateText ?? ""
            throw Rejection(reason: "device.platform \"\(shown)\" is not ios or android", partial: .object(members))
        }
        for index in fields.indices where fields[index].key == "token" || fields[index].key == "platform" {
            fields[index].value = .string(fields[index].value.templateText)
        }
        return .object(fields)
    }

    private func renderRelationships(
        _ template: ValueTemplate,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        let value = try render(template, line, members, "relationships") ?? .array([])
        guard case .array(let items) = value else {
            throw Rejection(reason: "relationships must be a list", partial: .object(members))
        }
        if items.isEmpty, shape.changesRelationships {
            throw Rejection(reason: "relationships is empty", partial: .object(members))
        }
        var result: [JSONValue] = []
        for (index, item) in items.enumerated() {
            let part = "relationships[\(index)].identifiers"
            let raw = item["identifiers"] ?? .object([])
            let identifiers: JSONValue
            switch (type, action) {
            case (.object, "identify_anonymous"):
                identifiers = try nonEmptyStrings(
                    raw, required: TrackOperationShape.anonymousPersonIdentifiers, part: part, members)
            case (.object, _):
                identifiers = try personIdentifiers(
                    raw, allowed: TrackOperationShape.mergeIdentifiers, part: part, members)
            default:
                identifiers = try objectIdentifiers(raw, part: part, members)
            }
            var entry = [JSONMember("identifiers", identifiers)]
            if let attributes = item["relationship_attributes"] ?? item["attributes"] {
                entry.append(JSONMember("relationship_attributes", attributes))
            }
            result.append(.object(entry))
        }
        return .array(result)
    }

    private func renderMergeSide(
        _ template: ValueTemplate,
        _ part: String,
        _ line: borrowing LineContext,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        let value = try render(template, line, members, part) ?? .object([])
        return try personIdentifiers(value, allowed: TrackOperationShape.mergeIdentifiers, part: part, members)
    }

    // MARK: - Identifier checks

    /// Exactly one of `allowed`, non-empty; values as strings. Empty or missing ones are
    /// dropped first, so `{ id: "{{user_id}}", email: "{{email}}" }` works for lines with either.
    private func personIdentifiers(
        _ value: JSONValue,
        allowed: [String],
        part: String,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        guard case .object(let fields) = value else {
            throw Rejection(reason: "\(part) must be a mapping", partial: .object(members))
        }
        var present: [JSONMember] = []
        for field in fields {
            let text = field.value.templateText
            if text.isEmpty { continue }
            guard allowed.contains(field.key) else {
                throw Rejection(
                    reason: "\(part): \"\(field.key)\" is not one of \(allowed.joined(separator: ", "))",
                    partial: .object(members)
                )
            }
            present.append(JSONMember(field.key, .string(text)))
        }
        guard present.count == 1 else {
            let found = present.isEmpty ? "none is set" : "got \(present.map(\.key).joined(separator: " and "))"
            throw Rejection(
                reason: "\(part) must have exactly one non-empty of \(allowed.joined(separator: ", ")); \(found)",
                partial: .object(members)
            )
        }
        return .object(present)
    }

    /// `object_type_id` + `object_id`, or `cio_object_id`; values as strings.
    private func objectIdentifiers(
        _ value: JSONValue,
        part: String,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        guard case .object(let fields) = value else {
            throw Rejection(reason: "\(part) must be a mapping", partial: .object(members))
        }
        if let cioID = value["cio_object_id"]?.templateText, !cioID.isEmpty {
            return .object([JSONMember("cio_object_id", .string(cioID))])
        }
        let allowed = TrackOperationShape.objectIdentifiers
        for field in fields where !allowed.contains(field.key) {
            throw Rejection(
                reason: "\(part): \"\(field.key)\" is not one of \(allowed.joined(separator: ", "))",
                partial: .object(members)
            )
        }
        return try nonEmptyStrings(value, required: ["object_type_id", "object_id"], part: part, members)
    }

    private func nonEmptyStrings(
        _ value: JSONValue,
        required: [String],
        part: String,
        _ members: [JSONMember]
    ) throws(Rejection) -> JSONValue {
        var result: [JSONMember] = []
        for key in required {
            guard let text = value[key]?.templateText, !text.isEmpty else {
                throw Rejection(reason: "\(part).\(key) is missing or empty", partial: .object(members))
            }
            result.append(JSONMember(key, .string(text)))
        }
        return .object(result)
    }
}
