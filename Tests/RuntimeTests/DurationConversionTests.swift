import Observability
import Testing

@Suite("Durations handed to C APIs")
struct DurationConversionTests {
    @Test("sub-second timeouts round up to whole milliseconds instead of becoming 0")
    func milliseconds() {
        #expect(Duration.milliseconds(250).inMilliseconds == 250)
        #expect(Duration.microseconds(100).inMilliseconds == 1)
        #expect(Duration.seconds(2.5).inMilliseconds == 2_500)
        #expect(Duration.zero.inMilliseconds == 0)
        #expect(Duration.seconds(1e12).inMilliseconds == Int32.max)
    }
}
