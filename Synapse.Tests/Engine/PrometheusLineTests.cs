using System.Text;
using Synapse.Client.Engine;

namespace Synapse.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class PrometheusLineTests
{
    [Fact]
    public void TrySplit_SampleWithLabels_GivesNameLabelsAndValue()
    {
        Assert.True(PrometheusLine.TrySplit("vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 7.0"u8, out var name, out var labels, out var value));

        Assert.Equal("vllm:num_requests_waiting", Text(name));
        Assert.Equal("engine=\"0\",model_name=\"m\"", Text(labels));
        Assert.Equal("7.0", Text(value));
    }

    [Theory]
    [InlineData("llamacpp:requests_processing 3", "llamacpp:requests_processing", "3")]
    [InlineData("process_resident_memory_bytes 2.712195072e+09", "process_resident_memory_bytes", "2.712195072e+09")]
    [InlineData("x{a=\"1\"} 5 1712345678000", "x", "5")]
    [InlineData("  x\t4.5  ", "x", "4.5")]
    public void TrySplit_ValueWithOrWithoutTimestamp_GivesTheValueOnly(string line, string expectedName, string expectedValue)
    {
        Assert.True(PrometheusLine.TrySplit(Encoding.UTF8.GetBytes(line), out var name, out _, out var value));

        Assert.Equal(expectedName, Text(name));
        Assert.Equal(expectedValue, Text(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# HELP vllm:num_requests_running Number of requests in model execution batches.")]
    [InlineData("# TYPE vllm:num_requests_running gauge")]
    [InlineData("vllm:num_requests_running{model_name=\"m\" 3")]
    [InlineData("vllm:num_requests_running{model_name=\"m} 3")]
    [InlineData("vllm:num_requests_running")]
    [InlineData("{model_name=\"m\"} 3")]
    [InlineData("vllm:num-requests 3")]
    public void TrySplit_CommentsBlanksAndBrokenLines_AreNotSamples(string line)
    {
        Assert.False(PrometheusLine.TrySplit(Encoding.UTF8.GetBytes(line), out _, out _, out _));
    }

    [Fact]
    public void TrySplit_BracesAndQuotesInsideALabelValue_DoNotEndTheLabels()
    {
        Assert.True(PrometheusLine.TrySplit("m{model_name=\"a}b\\\"c{\",engine=\"1\"} 2"u8, out var name, out var labels, out var value));

        Assert.Equal("m", Text(name));
        Assert.True(PrometheusLine.TryGetLabel(labels, "engine"u8, out var engine));
        Assert.Equal("1", Text(engine));
        Assert.True(PrometheusLine.TryGetLabel(labels, "model_name"u8, out var model));
        Assert.Equal("a}b\"c{", PrometheusLine.Unescape(model));
        Assert.Equal("2", Text(value));
    }

    [Fact]
    public void TryGetLabel_AbsentLabel_IsFalse()
    {
        Assert.False(PrometheusLine.TryGetLabel("engine=\"0\",model_name=\"m\""u8, "tp_rank"u8, out _));
        Assert.False(PrometheusLine.TryGetLabel("model=\"m"u8, "model"u8, out _));
    }

    [Fact]
    public void Unescape_TheFormatsThreeEscapes_AreUndone()
    {
        Assert.Equal("a\\b\"c\nd", PrometheusLine.Unescape("a\\\\b\\\"c\\nd"u8));
        Assert.Equal("org/model-7b", PrometheusLine.Unescape("org/model-7b"u8));
    }

    [Theory]
    [InlineData("3.0", 3.0)]
    [InlineData("0.42", 0.42)]
    [InlineData("1e-05", 0.00001)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    public void TryParseValue_PrometheusNumbers_Parse(string text, double expected)
    {
        Assert.True(PrometheusLine.TryParseValue(Encoding.UTF8.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void TryParseValue_NaN_ParsesAsNaNSoTheCallerCanRefuseIt()
    {
        Assert.True(PrometheusLine.TryParseValue("NaN"u8, out var value));
        Assert.True(double.IsNaN(value));
        Assert.False(PrometheusLine.TryParseValue("seven"u8, out _));
    }

    private static string Text(ReadOnlySpan<byte> span) => Encoding.UTF8.GetString(span);
}
