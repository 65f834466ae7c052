using Microsoft.Playwright;
using Synapse.Tests.Deployment;

using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Observability;

/// <summary>One browser context with the status page open, collecting what the page complained about.</summary>
internal sealed class StatusPageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private StatusPageSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.PageError += (_, error) => _errors.Add("uncaught: " + error);
        page.Console += (_, message) =>
        {
            // Failed fetches (401, an aborted route) are the page's business; script errors and CSP blocks are not.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                _errors.Add("console: " + message.Text);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Where the tests leave screenshots for review: <c>artifacts/screenshots/</c> in the checkout.</summary>
    public static string ScreenshotDirectory { get; } = RepositoryRoot.File("artifacts", "screenshots");

    public static async Task<StatusPageSession> OpenAsync(
        IBrowser browser, string url, int width = 1440, int height = 1000, ColorScheme scheme = ColorScheme.Light, IEnumerable<string>? permissions = null)
    {
        var context = await browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height },
            ColorScheme = scheme,
            Permissions = permissions,
        });
        var session = new StatusPageSession(context, await context.NewPageAsync());
        await session.Page.GotoAsync(url);
        return session;
    }

    public void AssertNoPageErrors() => Assert.Empty(_errors);

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, name), FullPage = true });
    }

    /// <summary>The top of the page down to the bottom of <paramref name="last"/> (for the README).</summary>
    public async Task ScreenshotTopAsync(string name, ILocator last)
    {
        var box = await last.BoundingBoxAsync() ?? throw new InvalidOperationException("Nothing to frame the screenshot by.");
        var width = Page.ViewportSize?.Width ?? 1280;
        Directory.CreateDirectory(ScreenshotDirectory);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, name), Clip = new() { X = 0, Y = 0, Width = width, Height = box.Y + box.Height + 16 } });
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
