namespace Synapse.Tests.Infrastructure;

/// <summary>What a <see cref="FakeEngine"/> reports for one model.</summary>
public readonly record struct FakeEngineLoad(int Running, int Waiting, double KvUsage);
