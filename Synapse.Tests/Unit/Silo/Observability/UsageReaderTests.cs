using System.Text;
using Synapse.Silo.Observability;

namespace Synapse.Tests.Unit.Silo.Observability;

/// <summary>The token counts the gateway's metrics take from an upstream's <c>usage</c>, wherever it reports them.</summary>
[Trait("Category", "Unit")]
public sealed class UsageReaderTests
{
    [Theory]
    [InlineData("""{"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}""", 12, 34)]
    [InlineData("""{"usage":{"total_tokens":46,"completion_tokens":34,"prompt_tokens":12},"id":"c1"}""", 12, 34)]
    [InlineData("""{"object":"response","usage":{"input_tokens":7,"output_tokens":9,"output_tokens_details":{"reasoning_tokens":2}}}""", 7, 9)]
    [InlineData("""{"object":"list","data":[{"embedding":[0.1]}],"usage":{"prompt_tokens":5,"total_tokens":5}}""", 5, 0)]
    [InlineData("""{"choices":[{"message":{"content":"the \"usage\" field"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}""", 1, 2)]
    [InlineData("""{"usage":{"prompt_tokens_details":{"cached_tokens":100},"prompt_tokens":3,"completion_tokens":4}}""", 3, 4)]
    public void TryRead_AnswerWithUsage_ReadsBothCounts(string json, long input, long output)
    {
        Assert.True(UsageReader.TryRead(Encoding.UTF8.GetBytes(json), out var readInput, out var readOutput));
        Assert.Equal((input, output), (readInput, readOutput));
    }

    [Theory]
    [InlineData("""{"id":"c1","choices":[]}""")]
    [InlineData("""{"usage":null}""")]
    [InlineData("""{"usage":{}}""")]
    [InlineData("""{"usage":{"total_tokens":10}}""")]
    [InlineData("""{"usage":{"prompt_tokens":"12","completion_tokens":"34"}}""")]
    [InlineData("""{"usage":{"prompt_tokens":1.5}}""")]
    [InlineData("""{"choices":[{"usage":{"prompt_tokens":1,"completion_tokens":2}}]}""")]
    [InlineData("""["usage",{"usage":{"prompt_tokens":1}}]""")]
    [InlineData("""{"usage":{"prompt_tokens":1,""")]
    [InlineData("""not json "usage" at all""")]
    [InlineData("")]
    public void TryRead_AnswerWithoutUsableUsage_ReadsNothingAndNeverThrows(string json)
    {
        Assert.False(UsageReader.TryRead(Encoding.UTF8.GetBytes(json), out _, out _));
    }

    [Fact]
    public void TryRead_TruncatedAfterTheUsageObject_StillReadsTheCounts()
    {
        // The usage object is complete even though the answer is cut after it: the counts are what the upstream said.
        Assert.True(UsageReader.TryRead("""{"usage":{"prompt_tokens":1,"completion_tokens":2}"""u8, out var input, out var output));
        Assert.Equal((1L, 2L), (input, output));
    }
}
