using System.Buffers;
using System.Text;
using Synapse.Silo.Forwarding;
using Synapse.Silo.Usage;

namespace Synapse.Tests.Unit.Silo.Usage;

[Trait("Category", "Unit")]
public sealed class UsageEventFilterTests
{
    private const string Content = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n";
    private const string Finish = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    private const string UsageEvent = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,\"total_tokens\":30}}\n\n";
    private const string Done = "data: [DONE]\n\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void Injected_UsageEventIsReadAndTakenOut_HoweverTheBytesAreCut(int pieceSize)
    {
        var (output, filter) = Run(StreamUsageMode.Injected, Content + Finish + UsageEvent + Done, pieceSize);

        Assert.Equal(Content + Finish + Done, output);
        Assert.True(filter.Found);
        Assert.Equal((10L, 20L), (filter.InputTokens, filter.OutputTokens));
    }

    [Theory]
    [InlineData("{\"id\":\"c\",\"choices\":[{\"index\":0}],\"usage\":null}", "{\"id\":\"c\",\"choices\":[{\"index\":0}]}")]
    [InlineData("{\"usage\":null,\"id\":\"c\"}", "{\"id\":\"c\"}")]
    [InlineData("{\"usage\": null, \"id\":\"c\"}", "{\"id\":\"c\"}")]
    [InlineData("{\"id\":\"c\" , \"usage\" : null}", "{\"id\":\"c\" }")]
    [InlineData("{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}", "{\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}")]
    public void Injected_NullUsageMember_IsTakenOutOfEachEvent(string json, string expected)
    {
        var (output, _) = Run(StreamUsageMode.Injected, $"data: {json}\n\n" + UsageEvent + Done, 5);

        Assert.Equal($"data: {expected}\n\n" + Done, output);
    }

    [Theory]
    [InlineData(StreamUsageMode.CallerAsked)]
    [InlineData(StreamUsageMode.Answer)]
    public void NotInjected_EveryByteGoesOutAsItArrives_AndUsageIsRead(StreamUsageMode mode)
    {
        var stream = Content.Replace("}]}", "}],\"usage\":null}", StringComparison.Ordinal) + UsageEvent + Done;
        var writer = new ArrayBufferWriter<byte>();
        using var filter = new UsageEventFilter(mode);
        var tail = new EventBoundary();
        var bytes = Encoding.UTF8.GetBytes(stream);
        for (var at = 0; at < bytes.Length; at += 3)
        {
            filter.Write(bytes.AsSpan(at, Math.Min(3, bytes.Length - at)), writer, ref tail);
            Assert.Equal(Math.Min(at + 3, bytes.Length), writer.WrittenCount);
        }

        Assert.Equal(stream, Encoding.UTF8.GetString(writer.WrittenSpan));
        Assert.Equal((true, 10L, 20L), (filter.Found, filter.InputTokens, filter.OutputTokens));
    }

    [Theory]
    [InlineData("data: {\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}\r\n\r\n")]
    [InlineData("event: response.completed\ndata: {\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}\n\n")]
    [InlineData("data:{\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20}}")]
    public void UsageEvent_InOtherShapes_IsRead(string stream)
    {
        var (_, filter) = Run(StreamUsageMode.CallerAsked, stream, 4);

        Assert.Equal((true, 10L, 20L), (filter.Found, filter.InputTokens, filter.OutputTokens));
    }

    [Theory]
    [InlineData("data: {\"choices\":[],\"usage\":null}\n\n")]
    [InlineData(": \"usage\" {\"prompt_tokens\":10}\n\n")]
    [InlineData("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,")]
    [InlineData(Done)]
    public void StreamWithoutAUsageEvent_ReadsNothing(string stream)
    {
        var (_, filter) = Run(StreamUsageMode.CallerAsked, stream, 4);

        Assert.False(filter.Found);
    }

    [Fact]
    public void Injected_IncompleteLastEvent_GoesOutWhenTheStreamEnds()
    {
        var (output, filter) = Run(StreamUsageMode.Injected, Content + "data: {\"partial\":", 6);

        Assert.Equal(Content + "data: {\"partial\":", output);
        Assert.False(filter.Found);
    }

    [Fact]
    public void Injected_UpstreamIgnoringTheOption_PassesUnchanged()
    {
        var (output, filter) = Run(StreamUsageMode.Injected, Content + Finish + Done, 10);

        Assert.Equal(Content + Finish + Done, output);
        Assert.False(filter.Found);
    }

    private static (string Output, UsageEventFilter Filter) Run(StreamUsageMode mode, string stream, int pieceSize)
    {
        var writer = new ArrayBufferWriter<byte>();
        var filter = new UsageEventFilter(mode);
        var tail = new EventBoundary();
        var bytes = Encoding.UTF8.GetBytes(stream);
        for (var at = 0; at < bytes.Length; at += pieceSize)
        {
            filter.Write(bytes.AsSpan(at, Math.Min(pieceSize, bytes.Length - at)), writer, ref tail);
        }

        filter.Flush(writer, ref tail);
        filter.Dispose();
        return (Encoding.UTF8.GetString(writer.WrittenSpan), filter);
    }
}
