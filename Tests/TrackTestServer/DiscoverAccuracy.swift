/// Grouping accuracy as Zhu et al. (2019) define it: a line is correct when the set of lines
/// in its predicted group equals the set of lines in its true group. Shared by the unit test
/// that measures `discover` on the loghub datasets and the integration tests of the command.
public enum DiscoverAccuracy {
    public static func grouping(truth: [String], predicted: [String]) -> Double {
        guard truth.count == predicted.count, !truth.isEmpty else { return 0 }
        var trueGroups: [String: Set<Int>] = [:]
        var predictedGroups: [String: Set<Int>] = [:]
        for index in truth.indices {
            trueGroups[truth[index], default: []].insert(index)
            predictedGroups[predicted[index], default: []].insert(index)
        }
        let correct = truth.indices.filter { trueGroups[truth[$0]] == predictedGroups[predicted[$0]] }.count
        return Double(correct) / Double(truth.count)
    }
}
