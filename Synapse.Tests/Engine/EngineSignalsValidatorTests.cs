using Synapse.Protocol.Messages;
using Synapse.Silo.Agents;

namespace Synapse.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class EngineSignalsValidatorTests
{
    private static readonly Dictionary<string, string> Advertised = new(StringComparer.Ordinal) { ["a"] = "{}", ["b"] = "{}" };

    [Fact]
    public void Check_SignalsForAdvertisedModels_AreAccepted()
    {
        var message = Message(new ModelEngineSignals { Model = "a", Running = 3, Waiting = 0, KvUsage = 1.0, Capacity = 4 }, new ModelEngineSignals { Model = "b", Running = 0 });

        Assert.Null(EngineSignalsValidator.Check(message, agentProtocol: 2, Advertised));
        Assert.Null(EngineSignalsValidator.Check(Message(), agentProtocol: 2, Advertised));
    }

    public static TheoryData<string, EngineSignalsMessage> Broken => new()
    {
        { "does not serve", Message(new ModelEngineSignals { Model = "c", Running = 1 }) },
        { "twice", Message(new ModelEngineSignals { Model = "a", Running = 1 }, new ModelEngineSignals { Model = "a", Running = 2 }) },
        { "running, waiting and capacity", Message(new ModelEngineSignals { Model = "a", Running = -1 }) },
        { "running, waiting and capacity", Message(new ModelEngineSignals { Model = "a", Running = 1, Waiting = -5 }) },
        { "running, waiting and capacity", Message(new ModelEngineSignals { Model = "a", Running = 1, Capacity = 20_000_000 }) },
        { "KV usage", Message(new ModelEngineSignals { Model = "a", Running = 1, KvUsage = 1.5 }) },
        { "KV usage", Message(new ModelEngineSignals { Model = "a", Running = 1, KvUsage = -0.1 }) },
        { "KV usage", Message(new ModelEngineSignals { Model = "a", Running = 1, KvUsage = double.NaN }) },
        { "interval", Message() with { IntervalMs = 0 } },
        { "engine name", Message() with { Engine = "vllm\nForged: line" } },
        { "models are missing", Message() with { Models = null! } },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Check_BrokenFrame_IsRefusedSayingWhy(string expected, EngineSignalsMessage message)
    {
        Assert.Contains(expected, EngineSignalsValidator.Check(message, agentProtocol: 2, Advertised), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_TooManyModels_IsRefused()
    {
        var many = Enumerable.Range(0, 1025).Select(i => new ModelEngineSignals { Model = "m" + i, Running = 0 }).ToArray();

        Assert.Contains("exceed", EngineSignalsValidator.Check(Message(many), 2, Advertised), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_FromAProtocol1Agent_IsRefused()
    {
        Assert.Contains("need protocol 2", EngineSignalsValidator.Check(Message(), agentProtocol: 1, Advertised), StringComparison.Ordinal);
    }

    private static EngineSignalsMessage Message(params ModelEngineSignals[] models) =>
        new() { IntervalMs = 500, Engine = "vllm", Models = models };
}
