using System.Text.Json;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// Reads JSON into <see cref="ConfigNode"/>s with line and column for each node. Duplicate field names are refused
/// (a JSON parser would silently keep one of them); comments and trailing commas are tolerated.
/// </summary>
internal static class JsonConfigReader
{
    public static ConfigNode? Read(ReadOnlySpan<byte> utf8, string file, List<TenancyConfigError> errors)
    {
        var lines = new LineIndex(utf8);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            MaxDepth = 64,
        });
        var failed = false;
        try
        {
            if (!reader.Read())
            {
                return ConfigNode.Null("", 1, 1);
            }

            var root = ReadNode(ref reader, "", lines, file, errors, ref failed);

            // Anything after the one value (a second object) is a syntax error the reader reports here.
            while (reader.Read())
            {
            }

            return failed ? null : root;
        }
        catch (JsonException ex)
        {
            // The reader's own message quotes the offending character, which may be part of a key: say where instead.
            var line = (int)(ex.LineNumber ?? 0) + 1;
            var column = (int)(ex.BytePositionInLine ?? 0) + 1;
            errors.Add(new TenancyConfigError(file, "", "not valid JSON (syntax error)", line, column));
            return null;
        }
    }

    /// <param name="at">Where a field's name is: a field's errors point there, not at its value.</param>
    private static ConfigNode ReadNode(ref Utf8JsonReader reader, string path, LineIndex lines, string file, List<TenancyConfigError> errors, ref bool failed, (int, int)? at = null)
    {
        var (line, column) = at ?? lines.Position(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var fields = new List<KeyValuePair<string, ConfigNode>>();
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString()!;
                    var (nameLine, nameColumn) = lines.Position(reader.TokenStartIndex);
                    reader.Read();
                    var value = ReadNode(ref reader, ConfigNode.FieldPath(path, name), lines, file, errors, ref failed, (nameLine, nameColumn));
                    if (!names.Add(name))
                    {
                        errors.Add(new TenancyConfigError(file, path, $"field {ConfigText.Name(name)} appears twice", nameLine, nameColumn));
                        failed = true;
                        continue;
                    }

                    fields.Add(new KeyValuePair<string, ConfigNode>(name, value));
                }

                return ConfigNode.Mapping(path, line, column, fields);

            case JsonTokenType.StartArray:
                var items = new List<ConfigNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadNode(ref reader, ConfigNode.ItemPath(path, items.Count), lines, file, errors, ref failed));
                }

                return ConfigNode.Sequence(path, line, column, items);

            case JsonTokenType.String:
                return ConfigNode.Scalar(path, line, column, reader.GetString()!, isString: true);

            case JsonTokenType.Number:
            case JsonTokenType.True:
            case JsonTokenType.False:
                return ConfigNode.Scalar(path, line, column, System.Text.Encoding.UTF8.GetString(reader.ValueSpan), isString: false);

            default:
                return ConfigNode.Null(path, line, column);
        }
    }

    /// <summary>Byte offsets to 1-based lines and columns (columns in bytes, as JSON readers count them).</summary>
    private readonly struct LineIndex
    {
        private readonly List<long> _starts;

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            _starts = [0];
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    _starts.Add(i + 1);
                }
            }
        }

        public (int Line, int Column) Position(long offset)
        {
            var index = _starts.BinarySearch(offset);
            if (index < 0)
            {
                index = ~index - 1;
            }

            return (index + 1, (int)(offset - _starts[index]) + 1);
        }
    }
}
