namespace Synapse.Client.Engine;

/// <summary>
/// One model's load in one reading. <see cref="Model"/> is the engine's own model label (vLLM's and SGLang's
/// <c>model_name</c>), or null when the engine does not label (llama.cpp: the whole server).
/// </summary>
internal readonly record struct EngineModelLoad(string? Model, int Running, int? Waiting, double? KvUsage);
