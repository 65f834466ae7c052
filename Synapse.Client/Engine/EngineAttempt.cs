namespace Synapse.Client.Engine;

/// <summary>What one attempt to read the engine gave: a reading (the previous one when nothing changed), or why none.</summary>
internal readonly record struct EngineAttempt(EngineReading? Reading, string? Problem)
{
    public static EngineAttempt Failed(string problem) => new(null, problem);
}
