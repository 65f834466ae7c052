using System.Text;
using System.Text.Json;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;

namespace Synapse.Tests.Unit.Protocol.Frames;

/// <summary>Every frame of the agent protocol reads back as it was written; anything malformed is a protocol error.</summary>
[Trait("Category", "Unit")]
public sealed class FrameCodecTests
{
    private static readonly HeaderField[] SomeHeaders =
    [
        new("Content-Type", "application/json"),
        new("X-Repeated", "one"),
        new("X-Repeated", "two"),
        new("X-Unicode", "naïve – ✓"),
        new("X-Empty", string.Empty),
    ];

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 100)]
    [InlineData(true, 70_000)]
    public void RequestHead_WithBody_RoundTrips(bool endOfBody, int bodyBytes)
    {
        var body = Bytes(bodyBytes);
        var head = new RequestHead(long.MaxValue, "org/llama:3.1", "POST", "/v1/chat/completions?x=é&y=1", SomeHeaders, endOfBody);

        var frame = FrameCodec.RequestHead(head, body);
        try
        {
            var read = FrameCodec.ReadRequestHead(frame.Span, out var bodyOffset);

            Assert.Equal(FrameType.RequestHead, frame.Type);
            Assert.Equal(long.MaxValue, FrameCodec.ReadRequestId(frame.Span));
            Assert.Equal((head.RequestId, head.Model, head.Method, head.PathAndQuery, head.EndOfBody), (read.RequestId, read.Model, read.Method, read.PathAndQuery, read.EndOfBody));
            Assert.Equal(SomeHeaders, read.Headers);
            Assert.Equal(body, frame.Span[bodyOffset..].ToArray());
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(32 * 1024, false)]
    public void RequestBody_Chunk_RoundTrips(int bytes, bool endOfBody)
    {
        var data = Bytes(bytes);

        var frame = FrameCodec.RequestBody(42, data, endOfBody);
        try
        {
            Assert.Equal(FrameType.RequestBody, frame.Type);
            Assert.Equal(42, FrameCodec.ReadRequestId(frame.Span));
            Assert.Equal(endOfBody, FrameCodec.ReadRequestBodyEnd(frame.Span));
            Assert.Equal(data, frame.Span[FrameCodec.RequestBodyDataOffset..].ToArray());
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(200)]
    [InlineData(100)]
    [InlineData(999)]
    public void ResponseHead_RoundTrips(int status)
    {
        var frame = FrameCodec.ResponseHead(new ResponseHead(7, status, SomeHeaders));
        try
        {
            var read = FrameCodec.ReadResponseHead(frame.Span);

            Assert.Equal(FrameType.ResponseHead, frame.Type);
            Assert.Equal((7L, status), (read.RequestId, read.StatusCode));
            Assert.Equal(SomeHeaders, read.Headers);
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(ProtocolLimits.BodyChunkBytes)]
    public void ResponseBody_Chunk_RoundTrips(int bytes)
    {
        var data = Bytes(bytes);

        var frame = FrameCodec.ResponseBody(9, data);
        try
        {
            Assert.Equal(FrameType.ResponseBody, frame.Type);
            Assert.Equal(9, FrameCodec.ReadRequestId(frame.Span));
            Assert.Equal(data, frame.Span[FrameCodec.RequestPayloadOffset..].ToArray());
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("upstream_error", "connection reset by peer")]
    [InlineData("agent_draining", null)]
    public void ResponseEnd_WithAndWithoutError_RoundTrips(string? code, string? message)
    {
        var end = new ResponseEnd(11, code, message);

        var frame = FrameCodec.ResponseEnd(end);
        try
        {
            Assert.Equal(FrameType.ResponseEnd, frame.Type);
            Assert.Equal(end, FrameCodec.ReadResponseEnd(frame.Span));
        }
        finally
        {
            frame.Return();
        }
    }

    [Fact]
    public void ResponseEnd_WithAMessageOverTheLimit_IsCutSoThePeerStillReadsIt()
    {
        var huge = string.Concat(Enumerable.Repeat("€", ProtocolLimits.MaxErrorMessageBytes));

        var frame = FrameCodec.ResponseEnd(new ResponseEnd(11, "upstream_error", huge));
        try
        {
            var read = FrameCodec.ReadResponseEnd(frame.Span);

            Assert.Equal("upstream_error", read.ErrorCode);
            Assert.StartsWith("€€€", read.ErrorMessage, StringComparison.Ordinal);
            Assert.True(Encoding.UTF8.GetByteCount(read.ErrorMessage!) <= ProtocolLimits.MaxErrorMessageBytes);
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65_536)]
    [InlineData(int.MaxValue)]
    public void WindowUpdate_RoundTrips(int credits)
    {
        var frame = FrameCodec.WindowUpdate(13, credits);
        try
        {
            Assert.Equal(FrameType.WindowUpdate, frame.Type);
            Assert.Equal(credits, FrameCodec.ReadWindowUpdate(frame.Span, out var requestId));
            Assert.Equal(13, requestId);
        }
        finally
        {
            frame.Return();
        }
    }

    [Fact]
    public void Cancel_CarriesOnlyTheRequestId()
    {
        var frame = FrameCodec.Cancel(-5);
        try
        {
            Assert.Equal(FrameType.Cancel, frame.Type);
            Assert.Equal(FrameCodec.RequestPayloadOffset, frame.Length);
            Assert.Equal(-5, FrameCodec.ReadRequestId(frame.Span));
        }
        finally
        {
            frame.Return();
        }
    }

    [Theory]
    [InlineData(FrameType.Ping, 0L)]
    [InlineData(FrameType.Pong, 1_234_567_890_123L)]
    [InlineData(FrameType.Ping, long.MinValue)]
    public void PingAndPong_RoundTripTheirStamp(FrameType type, long stamp)
    {
        var frame = FrameCodec.Ping(type, stamp);
        try
        {
            Assert.Equal(type, frame.Type);
            Assert.Equal(stamp, FrameCodec.ReadPing(frame.Span));
        }
        finally
        {
            frame.Return();
        }
    }

    [Fact]
    public void Empty_IsJustTheTypeByte()
    {
        var frame = FrameCodec.Empty(FrameType.Draining);
        try
        {
            Assert.Equal(FrameType.Draining, frame.Type);
            Assert.Equal(1, frame.Length);
        }
        finally
        {
            frame.Return();
        }
    }

    [Fact]
    public void HelloFrame_RoundTripsAsJson()
    {
        var hello = new HelloMessage
        {
            ProtocolVersion = 3,
            ProductVersion = "0.1.0",
            AgentId = "agent-1:gpu.0",
            Name = "rack 4",
            Hostname = "gpu-box",
            Capacity = 8,
            Models = [new ModelAdvert("llama", JsonDocument.Parse("""{"id":"llama","max_model_len":8192,"owned_by":"me"}""").RootElement)],
            Os = "linux",
            Arch = "x64",
            Reconnects = 2,
            SelfUpdate = true,
            InstanceToken = "tok",
        };

        var read = RoundTrip(FrameType.Hello, hello, ProtocolJsonContext.Default.HelloMessage);

        Assert.Equal(hello with { Models = read.Models }, read);
        var advert = Assert.Single(read.Models);
        Assert.Equal("llama", advert.Id);
        Assert.Equal(8192, advert.Metadata.GetProperty("max_model_len").GetInt32());
    }

    [Fact]
    public void HandshakeAnswerFrames_RoundTripAsJson()
    {
        var welcome = new WelcomeMessage
        {
            ProtocolVersion = 3,
            ServerVersion = "0.1.0",
            SiloId = "S127.0.0.1:11111:1",
            ConnectionId = "c-1",
            SiloCount = 2,
            HeartbeatIntervalMs = 5000,
            HeartbeatTimeoutMs = 15000,
            MaxFrameBytes = 1 << 20,
            InitialWindowBytes = 1 << 18,
        };
        var reject = new RejectMessage
        {
            Code = RejectMessage.AgentIdInUse,
            Reason = "another process holds this id",
            ServerVersion = "0.1.0",
            ProtocolVersion = 3,
            MinProtocolVersion = 2,
            MaxProtocolVersion = 3,
        };

        Assert.Equal(welcome, RoundTrip(FrameType.Welcome, welcome, ProtocolJsonContext.Default.WelcomeMessage));
        Assert.Equal(reject, RoundTrip(FrameType.Reject, reject, ProtocolJsonContext.Default.RejectMessage));
        Assert.Equal(new GoAwayMessage("draining"), RoundTrip(FrameType.GoAway, new GoAwayMessage("draining"), ProtocolJsonContext.Default.GoAwayMessage));
    }

    [Fact]
    public void ModelsUpdateFrame_RoundTripsAsJson()
    {
        var update = new ModelsUpdateMessage([new ModelAdvert("a", JsonDocument.Parse("{}").RootElement), new ModelAdvert("b", JsonDocument.Parse("""{"x":[1,2]}""").RootElement)]);

        var read = RoundTrip(FrameType.ModelsUpdate, update, ProtocolJsonContext.Default.ModelsUpdateMessage);

        Assert.Equal(["a", "b"], read.Models.Select(m => m.Id));
        Assert.Equal("""{"x":[1,2]}""", read.Models[1].Metadata.GetRawText());
    }

    /// <summary>Empty, the type byte alone, and a request id cut short.</summary>
    public static TheoryData<byte[]> TooShortForARequestId => new([], [(byte)FrameType.Cancel], [(byte)FrameType.Cancel, 1, 2, 3, 4, 5, 6, 7]);

    [Theory]
    [MemberData(nameof(TooShortForARequestId))]
    public void ReadRequestId_FrameTooShort_IsAFormatError(byte[] frame)
    {
        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadRequestId(frame));
    }

    [Fact]
    public void ReadRequestHead_CutAnywhereBeforeTheBody_IsAFormatError()
    {
        var frame = FrameCodec.RequestHead(new RequestHead(1, "llama", "POST", "/v1/chat/completions", SomeHeaders, true), []);
        var whole = frame.Span.ToArray();
        frame.Return();

        for (var length = 1; length < whole.Length; length++)
        {
            var cut = whole[..length];
            Assert.Throws<FrameFormatException>(() => FrameCodec.ReadRequestHead(cut, out _));
        }
    }

    [Fact]
    public void ReadResponseHead_CutAnywhere_IsAFormatError()
    {
        var frame = FrameCodec.ResponseHead(new ResponseHead(1, 200, SomeHeaders));
        var whole = frame.Span.ToArray();
        frame.Return();

        for (var length = 1; length < whole.Length; length++)
        {
            var cut = whole[..length];
            Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseHead(cut));
        }
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1000)]
    [InlineData(0)]
    [InlineData(65535)]
    public void ReadResponseHead_StatusOutOfRange_IsAFormatError(int status)
    {
        var frame = WithPayload(FrameType.ResponseHead, 1, b =>
        {
            b.WriteUInt16((ushort)status);
            b.WriteVarUInt(0);
        });

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseHead(frame));
    }

    [Fact]
    public void ReadResponseHead_MoreHeadersThanTheLimit_IsAFormatErrorBeforeAllocatingThem()
    {
        var frame = WithPayload(FrameType.ResponseHead, 1, b =>
        {
            b.WriteUInt16(200);
            b.WriteVarUInt(uint.MaxValue);
        });

        var error = Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseHead(frame));
        Assert.Contains("exceed the limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRequestHead_ModelOverItsLimit_IsAFormatError()
    {
        var frame = WithPayload(FrameType.RequestHead, 1, b =>
        {
            b.WriteByte(1);
            b.WriteString(new string('m', ProtocolLimits.MaxModelIdBytes + 1));
        });

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadRequestHead(frame, out _));
    }

    [Fact]
    public void ReadRequestHead_StringFieldLongerThanTheFrame_IsAFormatError()
    {
        var frame = WithPayload(FrameType.RequestHead, 1, b =>
        {
            b.WriteByte(1);
            b.WriteVarUInt(200);
            b.WriteBytes("llama"u8);
        });

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadRequestHead(frame, out _));
    }

    [Fact]
    public void ReadResponseHead_HeaderThatIsNotUtf8_IsAFormatError()
    {
        var frame = WithPayload(FrameType.ResponseHead, 1, b =>
        {
            b.WriteUInt16(200);
            b.WriteVarUInt(1);
            b.WriteVarUInt(2);
            b.WriteBytes([0xC3, 0x28]);
            b.WriteString("v");
        });

        var error = Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseHead(frame));
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadVarUInt_LongerThanFiveBytes_IsAFormatError()
    {
        var frame = WithPayload(FrameType.ResponseHead, 1, b =>
        {
            b.WriteUInt16(200);
            b.WriteBytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        });

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseHead(frame));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void ReadWindowUpdate_NonPositiveGrant_IsAFormatError(int credits)
    {
        var frame = WithPayload(FrameType.WindowUpdate, 1, b => b.WriteInt32(credits));

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadWindowUpdate(frame, out _));
    }

    [Fact]
    public void ReadWindowUpdate_CutShort_IsAFormatError()
    {
        var frame = WithPayload(FrameType.WindowUpdate, 1, b => b.WriteUInt16(5));

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadWindowUpdate(frame, out _));
    }

    [Fact]
    public void ReadRequestBodyEnd_WithoutTheFlagByte_IsAFormatError()
    {
        var frame = WithPayload(FrameType.RequestBody, 1, _ => { });

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadRequestBodyEnd(frame));
    }

    [Fact]
    public void ReadResponseEnd_CutShort_IsAFormatError()
    {
        var frame = WithPayload(FrameType.ResponseEnd, 1, b => b.WriteVarUInt(10));

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadResponseEnd(frame));
    }

    [Fact]
    public void ReadPing_CutShort_IsAFormatError()
    {
        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadPing([(byte)FrameType.Ping, 1, 2, 3]));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"protocolVersion\":\"three\"}")]
    [InlineData("")]
    public void ReadJson_NotAHelloMessage_IsAFormatError(string json)
    {
        byte[] frame = [(byte)FrameType.Hello, .. Encoding.UTF8.GetBytes(json)];

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.HelloMessage));
    }

    [Fact]
    public void ReadJson_HelloMissingRequiredFields_IsAFormatError()
    {
        byte[] frame = [(byte)FrameType.Hello, .. "{\"protocolVersion\":3}"u8];

        Assert.Throws<FrameFormatException>(() => FrameCodec.ReadJson(frame, ProtocolJsonContext.Default.HelloMessage));
    }

    private static T RoundTrip<T>(FrameType type, T message, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        var frame = FrameCodec.Json(type, message, info);
        try
        {
            Assert.Equal(type, frame.Type);
            return FrameCodec.ReadJson(frame.Span, info);
        }
        finally
        {
            frame.Return();
        }
    }

    private static byte[] WithPayload(FrameType type, long requestId, Action<FrameBuilder> write)
    {
        using var builder = new FrameBuilder(type, requestId);
        write(builder);
        var frame = builder.Build();
        var bytes = frame.Span.ToArray();
        frame.Return();
        return bytes;
    }

    private static byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }
}
