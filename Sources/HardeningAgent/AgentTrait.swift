// HardeningAgent is built on SwiftNIO, Hummingbird, AsyncHTTPClient and Yams, which the package
// fetches only with its `Agent` trait: without it, say so here rather than fail on each import
// (every other file of the module is inside `#if Agent`, so this is the one error).
#if !Agent
#error("HardeningAgent needs the swift-hardening package trait Agent (on by default): drop `traits: []` from the swift-hardening dependency, or name \"Agent\" among its traits")
#endif
