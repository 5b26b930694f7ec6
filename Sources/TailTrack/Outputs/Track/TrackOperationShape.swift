/// The kind of entity a Track v2 operation changes.
enum EntityType: String, Sendable, CaseIterable {
    case person
    case object
    case delivery
}

/// The parts an operation can have, named as a rule's `operation:` writes them.
enum OperationPart: String, Sendable, CaseIterable {
    case identifiers
    case name
    case timestamp
    case attributes
    case relationships
    case device
    case primary
    case secondary
}

/// What one Track v2 operation — an entity type and one of its actions — looks like: the
/// parts it takes and those it cannot do without, whether it carries an `id`, and which
/// identifier names its parts take, per Customer.io's OpenAPI document for
/// `POST /api/v2/batch` (`shared/trackv2/`).
///
/// Rules are written in Track's terms, and this is where those terms are defined, so that
/// `check` (``RuleCompiler``), the template (``OperationTemplate``) and the byte encoder
/// (``OperationEncoder``) share them, and another output API can describe what it accepts
/// beside this one. The sizes Track allows are ``TrackLimits``.
struct TrackOperationShape: Sendable {
    let type: EntityType
    let action: String
    /// The parts the action takes.
    let parts: Set<OperationPart>
    /// Whether its operations carry an `id` Customer.io de-duplicates on.
    let carriesID: Bool

    /// `nil` when `type` has no such action.
    init?(_ type: EntityType, action: String) {
        guard let parts = Self.partsByAction[type]?[action] else { return nil }
        self.type = type
        self.action = action
        self.parts = parts
        carriesID = type == .person && (action == "event" || action == "page" || action == "screen")
    }

    /// Whether its operations carry a `timestamp`.
    var takesTimestamp: Bool { parts.contains(.timestamp) }

    /// Parts the action cannot do without.
    var requiredParts: Set<OperationPart> {
        switch (type, action) {
        case (.person, "merge"): return [.primary, .secondary]
        case (_, "event"), (_, "page"), (_, "screen"): return [.identifiers, .name]
        case (_, "add_relationships"), (_, "delete_relationships"): return [.identifiers, .relationships]
        case (_, "add_device"), (_, "delete_device"): return [.identifiers, .device]
        default: return [.identifiers]
        }
    }

    /// Whether the action changes relationships, so that its relationship list cannot be empty.
    var changesRelationships: Bool {
        action == "add_relationships" || action == "delete_relationships"
    }

    /// The actions `type` has, sorted.
    static func actions(of type: EntityType) -> [String] {
        (partsByAction[type] ?? [:]).keys.sorted()
    }

    /// Which actions each entity type has and which parts each action takes.
    private static let partsByAction: [EntityType: [String: Set<OperationPart>]] = [
        .person: [
            "identify": [.identifiers, .timestamp, .attributes, .relationships],
            "event": [.identifiers, .name, .timestamp, .attributes],
            "page": [.identifiers, .name, .timestamp, .attributes],
            "screen": [.identifiers, .name, .timestamp, .attributes],
            "delete": [.identifiers],
            "suppress": [.identifiers],
            "unsuppress": [.identifiers],
            "add_relationships": [.identifiers, .relationships],
            "delete_relationships": [.identifiers, .relationships],
            "add_device": [.identifiers, .device],
            "delete_device": [.identifiers, .device],
            "merge": [.primary, .secondary],
        ],
        .object: [
            "identify": [.identifiers, .attributes, .relationships],
            "identify_anonymous": [.identifiers, .attributes, .relationships],
            "delete": [.identifiers],
            "add_relationships": [.identifiers, .relationships],
            "delete_relationships": [.identifiers, .relationships],
        ],
        .delivery: [
            "event": [.identifiers, .name, .attributes]
        ],
    ]

    // MARK: - Identifiers and closed vocabularies

    /// A person is identified by exactly one of these.
    static let personIdentifiers = ["id", "email", "phone", "cio_id"]
    /// The two sides of a merge, and the people related to an object, by exactly one of these.
    static let mergeIdentifiers = ["id", "email", "cio_id"]
    /// An object is identified by `object_type_id` and `object_id`, or by `cio_object_id`.
    static let objectIdentifiers = ["object_type_id", "object_id", "cio_object_id"]
    /// An anonymous object (`identify_anonymous`) by both of these.
    static let anonymousObjectIdentifiers = ["object_type_id", "object_id"]
    /// The people related to an anonymous object by this.
    static let anonymousPersonIdentifiers = ["anonymous_id"]
    /// A delivery by this.
    static let deliveryIdentifiers = ["id"]
    /// The names a delivery event can have.
    static let deliveryEvents: Set<String> = ["opened", "converted", "delivered"]
    /// The platforms a device can have.
    static let devicePlatforms: Set<String> = ["ios", "android"]

    /// The identifier names one part of an operation takes: which names are allowed, and
    /// which sets of them are enough (at least one set must be written in full).
    struct IdentifierKeys: Sendable {
        var allowed: [String]
        var enough: [[String]]
        /// What they identify, for messages: `person identifiers`.
        var noun: String

        /// Any one of `allowed` is enough.
        static func anyOne(of allowed: [String], noun: String) -> IdentifierKeys {
            IdentifierKeys(allowed: allowed, enough: allowed.map { [$0] }, noun: noun)
        }

        /// All of `required` are needed.
        static func all(of required: [String], noun: String) -> IdentifierKeys {
            IdentifierKeys(allowed: required, enough: [required], noun: noun)
        }

        static let object = IdentifierKeys(
            allowed: objectIdentifiers, enough: [["object_type_id", "object_id"], ["cio_object_id"]],
            noun: "object identifiers")
    }

    /// The identifier names of the operation's `identifiers:` (and of a merge's `primary:` and
    /// `secondary:`), or, with `relationship`, of each of its relationships.
    func identifierKeys(relationship: Bool) -> IdentifierKeys {
        switch (type, relationship) {
        case (.person, false):
            return .anyOne(
                of: action == "merge" ? Self.mergeIdentifiers : Self.personIdentifiers, noun: "person identifiers")
        case (.person, true):
            return .object
        case (.object, false):
            guard action == "identify_anonymous" else { return .object }
            return .all(of: Self.anonymousObjectIdentifiers, noun: "object identifiers")
        case (.object, true):
            guard action == "identify_anonymous" else {
                return .anyOne(of: Self.mergeIdentifiers, noun: "person identifiers")
            }
            return .all(of: Self.anonymousPersonIdentifiers, noun: "anonymous people")
        case (.delivery, _):
            return .all(of: Self.deliveryIdentifiers, noun: "delivery identifiers")
        }
    }
}
