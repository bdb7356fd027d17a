import Testing
@testable import HardeningAgent
