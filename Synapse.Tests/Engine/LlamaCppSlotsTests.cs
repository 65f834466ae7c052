using System.Text;
using Synapse.Client.Engine;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class LlamaCppSlotsTests
{
    [Fact]
    public void TryParseSlots_RealSlotList_CountsSlotsAndTheBusyOnes()
    {
        Assert.True(LlamaCppSlots.TryParseSlots(Encoding.UTF8.GetBytes(FakeEngine.RenderSlots(slots: 4, processing: 3)), out var total, out var processing));

        Assert.Equal(4, total);
        Assert.Equal(3, processing);
    }

    [Theory]
    [InlineData("{\"detail\":\"Not Found\"}")]
    [InlineData("[]")]
    [InlineData("[1,2,3]")]
    [InlineData("[{\"id\":0}]")]
    [InlineData("[{\"id\":0,\"is_processing\":\"yes\"}]")]
    [InlineData("[{\"id\":0,\"is_processing\":true}")]
    [InlineData("not json")]
    public void TryParseSlots_AnythingElse_IsFalse(string body)
    {
        Assert.False(LlamaCppSlots.TryParseSlots(Encoding.UTF8.GetBytes(body), out _, out _));
    }

    [Fact]
    public void TryParseTotalSlots_Props_ReadsTotalSlots()
    {
        var props = """{"default_generation_settings":{"n_ctx":4096,"total_slots":99},"total_slots":8,"model_path":"/m.gguf"}""";

        Assert.True(LlamaCppSlots.TryParseTotalSlots(Encoding.UTF8.GetBytes(props), out var total));
        Assert.Equal(8, total);
        Assert.False(LlamaCppSlots.TryParseTotalSlots("""{"total_slots":0}"""u8, out _));
        Assert.False(LlamaCppSlots.TryParseTotalSlots("""{"model_path":"/m.gguf"}"""u8, out _));
    }
}
