using Synapse.Client.Engine;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class EngineReadingTests
{
    [Fact]
    public void ToMessage_LabelledModels_EachGetsItsOwnAndAnyOtherTheWholeEngine()
    {
        var reading = new EngineReading(EngineKind.Vllm, [new("a", 3, 7, 0.4), new("b", 1, 1, 0.2)], capacity: null);

        var message = reading.ToMessage(["a", "b", "a-lora"], 500);

        Assert.Equal(500, message.IntervalMs);
        Assert.Equal("vllm", message.Engine);
        Assert.Equal(
            [
                new ModelEngineSignals { Model = "a", Running = 3, Waiting = 7, KvUsage = 0.4 },
                new ModelEngineSignals { Model = "b", Running = 1, Waiting = 1, KvUsage = 0.2 },
                new ModelEngineSignals { Model = "a-lora", Running = 4, Waiting = 8, KvUsage = 0.3 },
            ],
            message.Models);
    }

    [Fact]
    public void ToMessage_UnlabelledEngine_AppliesToEveryAdvertisedModelWithItsCapacity()
    {
        var reading = new EngineReading(EngineKind.LlamaCppSlots, [new(null, 2, null, null)], capacity: 4);

        var message = reading.ToMessage(["x", "y"], 250);

        Assert.Equal("llama.cpp", message.Engine);
        Assert.All(message.Models, m => Assert.Equal((2, (int?)null, (int?)4), (m.Running, m.Waiting, m.Capacity)));
        Assert.Equal(["x", "y"], message.Models.Select(m => m.Model));
    }

    [Fact]
    public void ToMessage_NoReading_HasNoModels()
    {
        var message = EngineReading.None.ToMessage(["x"], 500);

        Assert.Empty(message.Models);
        Assert.Null(message.Engine);
    }

    [Fact]
    public void SameAs_EqualValues_IsTrueAndAnyDifferenceFalse()
    {
        var a = new EngineReading(EngineKind.Vllm, [new("a", 3, 7, 0.4)], null);

        Assert.True(a.SameAs(new EngineReading(EngineKind.Vllm, [new("a", 3, 7, 0.4)], null)));
        Assert.False(a.SameAs(new EngineReading(EngineKind.Vllm, [new("a", 3, 7, 0.41)], null)));
        Assert.False(a.SameAs(new EngineReading(EngineKind.Sglang, [new("a", 3, 7, 0.4)], null)));
        Assert.False(a.SameAs(EngineReading.None));
    }
}
