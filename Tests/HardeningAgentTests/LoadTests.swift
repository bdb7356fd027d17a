import Testing

/// Suites whose processes need the machine's cores to themselves: a flood of streamed events with
/// fifty reader threads, a headless browser, the demo at full speed (its story's counts depend on
/// the cores it gets), an agent probing every 10 ms. They run one after another, after the
/// parallel suites and the tailers (the README's test command filters `LoadTests`), so that
/// neither they nor their neighbours measure the other's load.
@Suite(.serialized) enum LoadTests {}
