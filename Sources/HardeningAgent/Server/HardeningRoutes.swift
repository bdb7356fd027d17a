// Built with the package trait Agent only (AgentTrait.swift says what to do without it).
#if Agent
import Hardening
import HTTPTypes
import Hummingbird
import NIOCore

extension RouterMethods {
    /// Mounts `/health`, `/health/live`, `/health/ready`, `/metrics` and `/summary` of `endpoints`
    /// (over the application's own monitor and live summary) on this router or group: `GET` and
    /// `HEAD`, and 405 with `Allow` for other methods. The agent serves the same code.
    @discardableResult
    public func addHardeningEndpoints<C: Clock>(_ endpoints: HardeningEndpoints<C>) -> Self where C.Duration == Duration {
        for path in HardeningEndpoints<C>.paths {
            for method in [HTTPRequest.Method.get, .head, .post, .put, .delete, .patch] {
                on(RouterPath(path), method: method) { _, _ in
                    // Every path of the list has an answer.
                    Self.response(endpoints.answer(method: method.rawValue, path: path)!)
                }
            }
        }
        return self
    }

    /// A Hummingbird response of an endpoint's answer.
    static func response<C>(_ answer: HardeningEndpoints<C>.Answer) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        guard !answer.body.isEmpty else { return Response(status: .init(code: answer.status), headers: headers) }
        return Response(status: .init(code: answer.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
#endif
