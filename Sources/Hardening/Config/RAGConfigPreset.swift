extension ConfigRule {
    /// The original RAG service's configuration: OpenAI, Pinecone, Notion and Zotero keys and ids,
    /// and the pipeline's values (the worked example in README).
    public static let ragService: [ConfigRule] = [
        ConfigRule("OPENAI_API_KEY", .secret(prefix: ["sk-"]), help: "Create a key at platform.openai.com/api-keys."),
        ConfigRule("PINECONE_API_KEY", .secret(), help: "Copy it from the Pinecone console, API keys."),
        ConfigRule("PINECONE_INDEX_NAME", .text, help: "The index that holds the document chunks."),
        ConfigRule("NOTION_API_KEY", .secret(prefix: ["secret_", "ntn_"]), help: "Create an internal integration at notion.so/my-integrations."),
        ConfigRule("NOTION_DATABASE_ID", .identifier, help: "The 32-hex-digit id in the database's URL."),
        ConfigRule("ZOTERO_API_KEY", .secret(), help: "Create a key at zotero.org/settings/keys."),
        ConfigRule("ZOTERO_LIBRARY_ID", .integer(1...Int64.max), help: "Your user or group library id, a number (zotero.org/settings/keys)."),
        ConfigRule("EMBEDDING_MODEL", .oneOf(["text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"]),
                   default: "text-embedding-3-small", help: "One of OpenAI's embedding models."),
        ConfigRule("CHUNK_SIZE", .integer(100...8_000), default: "1000", help: "Characters per chunk."),
        ConfigRule("CHUNK_OVERLAP", .integer(0...2_000), default: "200", help: "Characters shared by consecutive chunks."),
        ConfigRule("TOP_K", .integer(1...100), default: "5", help: "Chunks retrieved per question."),
        ConfigRule("TEMPERATURE", .number(0...2), default: "0.2", help: "The LLM's sampling temperature."),
    ]
}
