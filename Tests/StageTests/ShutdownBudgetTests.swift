import Stage
import Testing

@Suite("Shutdown budget")
struct ShutdownBudgetTests {
    @Test("drain, close and producer flush together fit inside the grace period with a tenth to spare", arguments: [1, 10, 25, 60])
    func fitsTheGracePeriod(_ seconds: Int) {
        let grace = Duration.seconds(seconds)
        let budget = ShutdownBudget(gracePeriod: grace)
        #expect(budget.drain + budget.close + budget.producerFlush <= grace * 9 / 10)
        #expect(budget.drain > .zero && budget.close > .zero && budget.producerFlush > .zero)
        let limits = budget.limits()
        #expect(limits.drainTimeout == budget.drain && limits.closeTimeout == budget.close)
    }
}
