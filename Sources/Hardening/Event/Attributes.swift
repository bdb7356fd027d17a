/// The ordered key/value pairs of an event's `attrs` (or of a nested JSON object).
///
/// Keys keep their insertion order. Setting a key that exists replaces its value in place.
/// Lookup is linear: attrs are small (a handful of keys), where a scan beats hashing.
public struct Attributes: Sendable, Hashable {
    /// The pairs in order.
    public private(set) var pairs: [(key: String, value: AttributeValue)]

    /// Creates empty attributes.
    public init() { self.pairs = [] }

    /// Creates attributes from pairs; a later duplicate key replaces the earlier value.
    public init(_ pairs: [(String, AttributeValue)]) {
        self.pairs = []
        self.pairs.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// Creates attributes from pairs without checking for duplicate keys. The caller promises
    /// that every key is distinct.
    public init(uniqueKeysWithValues pairs: [(key: String, value: AttributeValue)]) {
        self.pairs = pairs
    }

    /// The number of keys.
    public var count: Int { pairs.count }

    /// Whether there are no keys.
    public var isEmpty: Bool { pairs.isEmpty }

    /// The keys in order.
    public var keys: [String] { pairs.map(\.key) }

    /// The value for `key`, or `nil`; assigning `nil` removes the key.
    public subscript(key: String) -> AttributeValue? {
        get {
            for pair in pairs where pair.key == key { return pair.value }
            return nil
        }
        set {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    /// Appends a pair without looking for an existing key (the decoder's fast path).
    public mutating func appendUnchecked(_ key: String, _ value: AttributeValue) {
        pairs.append((key, value))
    }

    /// Reserves room for `capacity` pairs.
    public mutating func reserveCapacity(_ capacity: Int) { pairs.reserveCapacity(capacity) }

    public static func == (lhs: Attributes, rhs: Attributes) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        for (left, right) in zip(lhs.pairs, rhs.pairs) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pairs.count)
        for pair in pairs {
            hasher.combine(pair.key)
            hasher.combine(pair.value)
        }
    }
}

extension Attributes: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, AttributeValue)...) {
        self.init(elements)
    }
}

extension Attributes: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: AttributeValue)]> {
        pairs.makeIterator()
    }
}
