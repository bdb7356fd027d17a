// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HardeningLog
import ServiceLifecycle

/// The live dashboard: `/dashboard`, one self-contained page (no CDN, no external file) that
/// updates from `/events/stream` as events come, and `/dashboard/view`, its sections rendered by
/// the same code as `hardening replay --format html` from the live summary and the last
/// ``LiveTimelineSink/window`` of the timeline, so that a post-mortem looks like the live view
/// did.
///
/// Add ``sinks`` to the bus beside the ``SummarySink`` it reads, mount it with
/// `router.addHardeningDashboard(_:)`, and run it as a service after the HTTP server's (it ends
/// the streams at graceful shutdown, before the server waits for its requests).
public final class LiveDashboard: Service, Sendable {
    /// The stream of events.
    public let stream: EventStreamHub
    /// The timeline of the charts.
    public let timeline: LiveTimelineSink
    /// The summary of the tables.
    public let summary: SummarySink
    private let cache = ConditionLock<(at: ContinuousClock.Instant, html: String)?>(nil)
    /// How long one rendering of the view serves every client.
    private let reuseFor: Duration

    /// Creates the dashboard over `summary` (a sink of the same bus).
    public init(summary: SummarySink, stream: EventStreamHub.Configuration = .init(), window: Duration = .seconds(15 * 60),
                reuseFor: Duration = .milliseconds(500)) {
        self.summary = summary
        self.stream = EventStreamHub(configuration: stream)
        self.timeline = LiveTimelineSink(window: window)
        self.reuseFor = reuseFor
    }

    /// The sinks to add to the bus.
    public var sinks: [any EventSink] { [stream, timeline] }

    /// The view's sections: the summary and the window's timeline through ``ReportSections``,
    /// after a line of what was lost and the stream's clients.
    public func view() -> String {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0 }), cached.at.duration(to: now) < reuseFor { return cached.html }
        let summary = self.summary.summary
        let statistics = stream.statistics
        var page = HTMLPage(title: "")
        let origins = ReportSections.origins(summary)
        if !origins.runs.isEmpty { page.list(origins.runs) }
        page.paragraph("\(summary.byKind.values.reduce(0, +)) events. " + ReportSections.lossText(summary)
                       + "; event stream: \(statistics.clients) client(s), \(statistics.dropped) dropped for reading too slowly.",
                       cssClass: ReportSections.hasLoss(summary) ? "warn" : "ok")
        ReportSections(summary: summary, timeline: timeline.timeline).render(into: &page)
        let html = page.body
        cache.withLock { $0 = (now, html) }
        return html
    }

    /// The whole page: a live line (connection, events and rate, the latest events) above the view.
    public func page(title: String) -> String {
        var page = HTMLPage(title: title)
        page.heading(title)
        page.raw("""
            <p id="live" class="none">connecting to the event stream…</p>
            <p>Events on the stream: <b id="count">0</b>, <b id="rate">0</b>/s. Latest:</p>
            <ol id="latest" class="events"></ol>
            <div id="view">
            \(view())
            </div>
            """)
        return page.finish(style: Self.style, script: Self.script)
    }

    /// Ends every stream at graceful shutdown.
    public func run() async throws {
        try? await gracefulShutdown()
        stream.close()
    }

    static let style = """
        #live.ok{color:#1b6e20}#live.warn{color:#a15c00}ol.events{font:12px ui-monospace,monospace;max-height:12em;overflow:auto;background:#fafafa;border:1px solid #e4e4e4;padding:4px 4px 4px 40px}
        ol.events li.error,ol.events li.critical{color:#b71c1c}ol.events li.warning{color:#a15c00}
        """

    /// The page's script: counts the stream's events, lists the latest (as text, never as HTML),
    /// and fetches the view again at most once a second while events come, every five seconds
    /// otherwise. Paths are relative, so the page works behind a proxy's prefix.
    static let script = """
        (function () {
          var live = document.getElementById('live'), count = document.getElementById('count'),
              rate = document.getElementById('rate'), latest = document.getElementById('latest'),
              view = document.getElementById('view');
          var received = 0, times = [], fetching = false, lastFetch = 0, timer = null;
          function refresh() {
            timer = null;
            if (fetching) { return; }
            fetching = true;
            fetch('dashboard/view', { cache: 'no-store' }).then(function (r) { return r.ok ? r.text() : null; })
              .then(function (html) { if (html !== null) { view.innerHTML = html; } })
              .catch(function () {}).then(function () { fetching = false; lastFetch = Date.now(); });
          }
          function soon() {
            if (timer === null) { timer = setTimeout(refresh, Math.max(0, 1000 - (Date.now() - lastFetch))); }
          }
          var source = new EventSource('events/stream');
          source.onopen = function () { live.textContent = 'live: connected to the event stream'; live.className = 'ok'; };
          source.onerror = function () { live.textContent = 'event stream lost; reconnecting…'; live.className = 'warn'; };
          source.onmessage = function (message) {
            received += 1;
            count.textContent = String(received);
            var now = Date.now();
            times.push(now);
            while (times.length && times[0] < now - 10000) { times.shift(); }
            rate.textContent = (times.length / 10).toFixed(1);
            try {
              var event = JSON.parse(message.data);
              var item = document.createElement('li');
              item.className = event.level;
              item.textContent = event.timestamp + ' ' + event.level + ' ' + event.event + ': ' + event.message;
              latest.insertBefore(item, latest.firstChild);
              while (latest.childNodes.length > 50) { latest.removeChild(latest.lastChild); }
            } catch (e) {}
            soon();
          };
          setInterval(function () { if (Date.now() - lastFetch > 4000) { refresh(); } }, 5000);
        })();
        """
}
#endif
