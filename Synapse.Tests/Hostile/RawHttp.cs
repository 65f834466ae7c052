using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Synapse.Tests.Infrastructure;

namespace Synapse.Tests.Hostile;

/// <summary>
/// HTTP/1.1 by hand over a TCP socket, for the broken requests HttpClient refuses to send: lying lengths, bodies
/// that never end, trickled headers, floods. Reads responses back just as raw.
/// </summary>
internal sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly List<byte> _received = [];
    private bool _eof;

    private RawHttp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttp> ConnectAsync(TestGateway gateway)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, new Uri(gateway.BaseUrl).Port);
        return new RawHttp(tcp);
    }

    /// <summary>Opens a connection, sends <paramref name="request"/> and reads one response (null if closed without one).</summary>
    public static async Task<RawResponse?> ExchangeAsync(TestGateway gateway, string request, TimeSpan? timeout = null)
    {
        await using var http = await ConnectAsync(gateway);
        await http.TrySendAsync(request);
        return await http.ReadResponseAsync(timeout ?? TimeSpan.FromSeconds(10));
    }

    public Task<bool> TrySendAsync(string text) => TrySendAsync(Encoding.Latin1.GetBytes(text));

    /// <summary>Sends bytes; false when the server already closed the connection.</summary>
    public async Task<bool> TrySendAsync(byte[] bytes)
    {
        try
        {
            await _stream.WriteAsync(bytes);
            await _stream.FlushAsync();
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Half-closes: the server sees the end of what we send, as from a caller that gave up mid-body.</summary>
    public void ShutdownSend() => _tcp.Client.Shutdown(SocketShutdown.Send);

    /// <summary>The next response (interim ones included), or null when the connection closed before one came.</summary>
    public async Task<RawResponse?> ReadResponseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        int headerEnd;
        while ((headerEnd = IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!await FillAsync(cts.Token))
            {
                return null;
            }
        }

        var head = Encoding.Latin1.GetString([.. _received.GetRange(0, headerEnd)]);
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        _received.RemoveRange(0, headerEnd + 4);
        var length = headers.TryGetValue("Content-Length", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : status < 200 ? 0 : -1;
        while (length < 0 ? !_eof : _received.Count < length)
        {
            if (!await FillAsync(cts.Token))
            {
                break;
            }
        }

        var take = length < 0 ? _received.Count : Math.Min(length, _received.Count);
        var body = Encoding.UTF8.GetString([.. _received.GetRange(0, take)]);
        _received.RemoveRange(0, take);
        return new RawResponse(status, headers, body);
    }

    /// <summary>Reads (and drops) until the server closes the connection; false if it is still open at the deadline.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await FillAsync(cts.Token))
            {
                _received.Clear();
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }

        var buffer = new byte[64 * 1024];
        int read;
        try
        {
            read = await _stream.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            read = 0;
        }

        if (read == 0)
        {
            _eof = true;
            return false;
        }

        _received.AddRange(buffer.AsSpan(0, read));
        return true;
    }

    private int IndexOf(ReadOnlySpan<byte> needle) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_received).IndexOf(needle);
}

internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The OpenAI error code, asserting the error shape.</summary>
    public string ErrorCode
    {
        get
        {
            Assert.StartsWith("application/json", Headers.GetValueOrDefault("Content-Type", string.Empty), StringComparison.Ordinal);
            var error = JsonDocument.Parse(Body).RootElement.GetProperty("error");
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()));
            return error.GetProperty("code").GetString()!;
        }
    }
}
