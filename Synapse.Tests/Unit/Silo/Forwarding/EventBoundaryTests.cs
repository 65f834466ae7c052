using System.Text;
using Synapse.Silo.Forwarding;

namespace Synapse.Tests.Unit.Silo.Forwarding;

/// <summary>
/// The error event the gateway appends to a stream that failed midway must be an event of its own, however the
/// stream's last bytes happened to be cut into chunks.
/// </summary>
[Trait("Category", "Unit")]
public sealed class EventBoundaryTests
{
    private const string ErrorEvent = "data: {\"error\":{\"code\":\"agent_disconnected\"}}\n\n";

    [Fact]
    public void Terminator_BeforeAnyByte_IsNothing()
    {
        var boundary = default(EventBoundary);

        Assert.False(boundary.Any);
        Assert.Equal(string.Empty, Terminator(boundary));
    }

    [Theory]
    [InlineData("data: a\n\n", "")]
    [InlineData("data: a\n", "\n")]
    [InlineData("data: a", "\n\n")]
    [InlineData(": keepalive\n\n", "")]
    public void Terminator_AfterOneChunk_ClosesTheOpenLineAndEvent(string chunk, string expected)
    {
        var boundary = default(EventBoundary);

        boundary.Observe(Encoding.UTF8.GetBytes(chunk));

        Assert.True(boundary.Any);
        Assert.Equal(expected, Terminator(boundary));
    }

    [Theory]
    [InlineData(new[] { "data: a\n", "\n" }, "")]
    [InlineData(new[] { "data: a", "\n" }, "\n")]
    [InlineData(new[] { "data: a\n\n", "d" }, "\n\n")]
    [InlineData(new[] { "\n", "\n" }, "")]
    [InlineData(new[] { "data: a\n\n", "" }, "")]
    [InlineData(new[] { "data: a", "\n", "\n" }, "")]
    [InlineData(new[] { "data: a\n", "x", "\n" }, "\n")]
    public void Terminator_AcrossChunksOfAnySize_SeesTheStreamsLastTwoBytes(string[] chunks, string expected)
    {
        var boundary = default(EventBoundary);

        foreach (var chunk in chunks)
        {
            boundary.Observe(Encoding.UTF8.GetBytes(chunk));
        }

        Assert.Equal(expected, Terminator(boundary));
    }

    [Theory]
    [InlineData("data: one\n\ndata: two\n\n")]
    [InlineData("data: one\n\ndata: tw")]
    [InlineData("data: one\n\ndata: two\n")]
    [InlineData("data: one\r\n\r\ndata: two\r\n\r\n")]
    [InlineData("data: one\r\n\r\ndata: two\r\n")]
    [InlineData("data: one\r\n\r\ndata: two\r")]
    [InlineData(": keepalive\n\n")]
    public void ErrorEvent_AppendedAfterTheTerminator_IsParsedAsAnEventOfItsOwn(string stream)
    {
        // Every way of cutting the stream into chunks ends at the same boundary.
        for (var cut = 0; cut <= stream.Length; cut++)
        {
            var boundary = default(EventBoundary);
            boundary.Observe(Encoding.UTF8.GetBytes(stream[..cut]));
            boundary.Observe(Encoding.UTF8.GetBytes(stream[cut..]));

            var events = ParseEvents(stream + Terminator(boundary) + ErrorEvent);

            Assert.Equal("{\"error\":{\"code\":\"agent_disconnected\"}}", events[^1]);
            Assert.DoesNotContain(events.SkipLast(1), e => e.Contains("error", StringComparison.Ordinal));
        }
    }

    private static string Terminator(EventBoundary boundary) => Encoding.UTF8.GetString(boundary.Terminator);

    /// <summary>The data of each event, as an EventSource reads a stream (lines end in CRLF, LF or CR; a blank line dispatches).</summary>
    private static List<string> ParseEvents(string stream)
    {
        var events = new List<string>();
        var data = new List<string>();
        foreach (var line in stream.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n'))
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    events.Add(string.Join('\n', data));
                    data.Clear();
                }
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line[5..].TrimStart(' '));
            }
        }

        return events;
    }
}
