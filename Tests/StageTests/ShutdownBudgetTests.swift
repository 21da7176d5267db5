import Stage
import Testing

@Suite("Shutdown budget")
struct ShutdownBudgetTests {
    @Test("the waits of an orderly stop leave a fifth of the grace period for the commit", arguments: [1, 10, 25, 60])
    func fitsTheGracePeriod(_ seconds: Int) {
        let grace = Duration.seconds(seconds)
        let budget = ShutdownBudget(gracePeriod: grace)
        #expect(budget.drain + budget.producerFlush <= grace * 4 / 5)
        #expect(budget.drain > .zero && budget.producerFlush > .zero)
    }
}
