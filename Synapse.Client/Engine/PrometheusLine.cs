using System.Globalization;
using System.Text;

namespace Synapse.Client.Engine;

/// <summary>
/// Splits one line of the Prometheus text format (<c>name{label="value",...} value [timestamp]</c>) in a single
/// forward pass over its bytes: no regular expression, no backtracking, no allocation. Label values stay escaped
/// until someone needs one as a string.
/// </summary>
internal static class PrometheusLine
{
    /// <summary>
    /// True for a sample line; false for comments, blank lines and anything malformed (which the caller skips, as
    /// Prometheus itself would refuse it). <paramref name="labels"/> is what lies between the braces.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> labels, out ReadOnlySpan<byte> value)
    {
        name = labels = value = default;
        var i = SkipBlanks(line, 0);
        if (i == line.Length || line[i] == (byte)'#')
        {
            return false;
        }

        var nameStart = i;
        while (i < line.Length && IsNameByte(line[i]))
        {
            i++;
        }

        if (i == nameStart)
        {
            return false;
        }

        name = line[nameStart..i];
        if (i < line.Length && line[i] == (byte)'{')
        {
            var close = FindClosingBrace(line, i + 1);
            if (close < 0)
            {
                return false;
            }

            labels = line[(i + 1)..close];
            i = close + 1;
        }

        var valueStart = SkipBlanks(line, i);
        if (valueStart == i && i < line.Length)
        {
            return false;
        }

        var valueEnd = valueStart;
        while (valueEnd < line.Length && line[valueEnd] is not ((byte)' ' or (byte)'\t'))
        {
            valueEnd++;
        }

        value = line[valueStart..valueEnd];
        return value.Length > 0;
    }

    /// <summary>The raw (still escaped) value of label <paramref name="key"/>, when the label block has it.</summary>
    public static bool TryGetLabel(ReadOnlySpan<byte> labels, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        var i = 0;
        while (true)
        {
            i = SkipBlanks(labels, i);
            if (i < labels.Length && labels[i] == (byte)',')
            {
                i = SkipBlanks(labels, i + 1);
            }

            if (i >= labels.Length)
            {
                return false;
            }

            var keyStart = i;
            while (i < labels.Length && IsNameByte(labels[i]))
            {
                i++;
            }

            var found = labels[keyStart..i];
            i = SkipBlanks(labels, i);
            if (i >= labels.Length || labels[i] != (byte)'=')
            {
                return false;
            }

            i = SkipBlanks(labels, i + 1);
            if (i >= labels.Length || labels[i] != (byte)'"')
            {
                return false;
            }

            var valueStart = i + 1;
            var valueEnd = FindClosingQuote(labels, valueStart);
            if (valueEnd < 0)
            {
                return false;
            }

            if (found.SequenceEqual(key))
            {
                value = labels[valueStart..valueEnd];
                return true;
            }

            i = valueEnd + 1;
        }
    }

    /// <summary>A sample value: a decimal number, or <c>NaN</c>/<c>+Inf</c>/<c>-Inf</c> (which the caller refuses).</summary>
    public static bool TryParseValue(ReadOnlySpan<byte> text, out double value)
    {
        if (text.SequenceEqual("+Inf"u8) || text.SequenceEqual("Inf"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (text.SequenceEqual("-Inf"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A label value as text, with the format's three escapes (<c>\\</c>, <c>\"</c>, <c>\n</c>) undone.</summary>
    public static string Unescape(ReadOnlySpan<byte> raw)
    {
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        var bytes = new byte[raw.Length];
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == (byte)'\\' && i + 1 < raw.Length)
            {
                i++;
                bytes[n++] = raw[i] == (byte)'n' ? (byte)'\n' : raw[i];
            }
            else
            {
                bytes[n++] = raw[i];
            }
        }

        return Encoding.UTF8.GetString(bytes, 0, n);
    }

    // Metric and label names: [a-zA-Z0-9_:]. Anything else ends the name.
    private static bool IsNameByte(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a' || (uint)(b - '0') <= 9 || b is (byte)'_' or (byte)':';

    private static int SkipBlanks(ReadOnlySpan<byte> span, int i)
    {
        while (i < span.Length && span[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    /// <summary>The '}' that ends a label block, skipping braces inside quoted values; -1 if there is none.</summary>
    private static int FindClosingBrace(ReadOnlySpan<byte> line, int i)
    {
        while (i < line.Length)
        {
            switch (line[i])
            {
                case (byte)'}':
                    return i;
                case (byte)'"':
                    i = FindClosingQuote(line, i + 1);
                    if (i < 0)
                    {
                        return -1;
                    }

                    break;
            }

            i++;
        }

        return -1;
    }

    /// <summary>The unescaped '"' that ends a quoted value starting at <paramref name="i"/>; -1 if there is none.</summary>
    private static int FindClosingQuote(ReadOnlySpan<byte> span, int i)
    {
        while (i < span.Length)
        {
            if (span[i] == (byte)'\\')
            {
                i += 2;
                continue;
            }

            if (span[i] == (byte)'"')
            {
                return i;
            }

            i++;
        }

        return -1;
    }
}
