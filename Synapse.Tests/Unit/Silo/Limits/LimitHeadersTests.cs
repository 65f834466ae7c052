using Synapse.Silo.Limits;

namespace Synapse.Tests.Unit.Silo.Limits;

[Trait("Category", "Unit")]
public sealed class LimitHeadersTests
{
    [Theory]
    [InlineData(0.0201, "21ms")]
    [InlineData(1, "1s")]
    [InlineData(1.5, "1.5s")]
    [InlineData(360, "6m0s")]
    [InlineData(61.25, "1m1.25s")]
    public void Durations_AreWrittenAsOpenAIWritesThem(double seconds, string expected)
    {
        Assert.Equal(expected, LimitHeaders.Format(TimeSpan.FromSeconds(seconds)));
    }
}
