extension Int64 {
    /// Division rounding towards negative infinity, so that times before 1970 fall in the
    /// second (day, year) they belong to: `(-1).floorDividedBy(1000) == -1`, where `/` gives 0.
    func floorDividedBy(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
