using System.Net;
using Synapse.Silo.Observability;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>Someone guessing keys gets 401s as fast as they like, but the log stays readable and keeps the count.</summary>
[Collection(HostileCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RefusalLogTests(HostileFixture fixture)
{
    private const string KeyRefused = "wrong or missing API key";

    [Fact]
    public async Task WrongApiKey_Flood_LogsAtMostABudgetPerWindowAndThenHowManyWereLeftOut()
    {
        using var guesser = fixture.Gateway.CreateClient("not-the-key");
        var before = Count(KeyRefused);
        for (var i = 0; i < RefusalLogLimiter.Budget * 4; i++)
        {
            using var refused = await guesser.GetAsync(new Uri("/v1/models", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Earlier tests may have used this window's budget, and the burst may straddle two windows.
        Assert.InRange(Count(KeyRefused) - before, 0, RefusalLogLimiter.Budget * 2);

        // Once the window has passed, the next refusal is logged again, after a line with the count left out.
        await Eventually.UntilAsync(
            async () =>
            {
                using var refused = await guesser.GetAsync(new Uri("/v1/models", UriKind.Relative));
                return fixture.Gateway.Log.Lines.Any(l => l.Contains("more refusals (invalid_api_key) were not logged", StringComparison.Ordinal));
            },
            RefusalLogLimiter.Window * 2,
            "a line says how many refusals were left out");
        fixture.AssertLogsFreeOf("not-the-key");
        await fixture.StillServesAsync();
    }

    private int Count(string text) => fixture.Gateway.Log.Lines.Count(l => l.Contains(text, StringComparison.Ordinal));
}
