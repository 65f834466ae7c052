using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Synapse.Silo.Tenancy;

/// <summary>
/// Reads YAML into <see cref="ConfigNode"/>s from YamlDotNet's event stream, keeping each node's line and column.
/// Refuses what a config file should not hold: several documents, duplicate field names, non-text field names and
/// alias bombs. Scalars are typed here only as far as null goes; the schema walker decides the rest.
/// </summary>
internal static class YamlConfigReader
{
    /// <summary>Nodes a file may expand to, aliases included: far beyond any real file, short of an alias bomb.</summary>
    public const int MaxNodes = 100_000;

    public static ConfigNode? Read(string text, string file, List<TenancyConfigError> errors)
    {
        var state = new State(file, errors);
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return ConfigNode.Null("", 1, 1);
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, "", state);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                errors.Add(new TenancyConfigError(file, "", "the file holds more than one YAML document ('---'); put everything in one", (int)second.Start.Line, (int)second.Start.Column));
                return null;
            }

            return state.Failed ? null : root;
        }
        catch (YamlException ex)
        {
            // YamlDotNet's messages describe the syntax only (they are constant strings), never the text at fault.
            errors.Add(new TenancyConfigError(file, "", $"not valid YAML: {ex.Message}", (int)ex.Start.Line, (int)ex.Start.Column));
            return null;
        }
        catch (TooComplexException)
        {
            errors.Add(new TenancyConfigError(file, "", $"the file expands to more than {MaxNodes} nodes (YAML aliases); it cannot be a key-groups file"));
            return null;
        }
    }

    /// <param name="at">Where a mapping's field name is: a field's errors point there, not at its value.</param>
    private static ConfigNode ReadNode(IParser parser, string path, State state, Mark? at = null)
    {
        state.Count();
        var current = parser.Current ?? throw new YamlException("unexpected end of the file");
        var line = (int)(at ?? current.Start).Line;
        var column = (int)(at ?? current.Start).Column;
        switch (current)
        {
            case AnchorAlias alias:
                parser.MoveNext();
                if (!state.Anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new YamlException(alias.Start, alias.End, "an alias refers to an anchor that is not defined before it");
                }

                return Repath(target, path, state);

            case Scalar scalar:
                parser.MoveNext();
                var node = scalar.Style == ScalarStyle.Plain && IsNull(scalar.Value)
                    ? ConfigNode.Null(path, line, column)
                    : ConfigNode.Scalar(path, line, column, scalar.Value, isString: scalar.Style != ScalarStyle.Plain);
                return state.Remember(scalar.Anchor, node);

            case SequenceStart sequence:
                parser.MoveNext();
                var items = new List<ConfigNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser, ConfigNode.ItemPath(path, items.Count), state));
                }

                return state.Remember(sequence.Anchor, ConfigNode.Sequence(path, line, column, items));

            case MappingStart mapping:
                parser.MoveNext();
                var fields = new List<KeyValuePair<string, ConfigNode>>();
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyEvent = parser.Current!;
                    if (keyEvent is not Scalar key)
                    {
                        state.Error(path, "field names must be plain text, not lists or mappings", keyEvent.Start);
                        ReadNode(parser, path, state);
                        ReadNode(parser, path, state);
                        continue;
                    }

                    parser.MoveNext();
                    var value = ReadNode(parser, ConfigNode.FieldPath(path, key.Value), state, key.Start);
                    if (!names.Add(key.Value))
                    {
                        state.Error(path, $"field {ConfigText.Name(key.Value)} appears twice", key.Start);
                        continue;
                    }

                    fields.Add(new KeyValuePair<string, ConfigNode>(key.Value, value));
                }

                return state.Remember(mapping.Anchor, ConfigNode.Mapping(path, line, column, fields));

            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
    }

    /// <summary>YAML's core-schema nulls; anything quoted is a string.</summary>
    private static bool IsNull(string value) => value is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>An alias's node, again under the path where the alias is used, so errors point at that place.</summary>
    private static ConfigNode Repath(ConfigNode node, string path, State state)
    {
        state.Count();
        return node.Kind switch
        {
            ConfigNodeKind.Null => ConfigNode.Null(path, node.Line, node.Column),
            ConfigNodeKind.Scalar => ConfigNode.Scalar(path, node.Line, node.Column, node.Text!, node.IsString),
            ConfigNodeKind.Sequence => ConfigNode.Sequence(path, node.Line, node.Column,
                node.Items.Select((item, i) => Repath(item, ConfigNode.ItemPath(path, i), state)).ToList()),
            _ => ConfigNode.Mapping(path, node.Line, node.Column,
                node.Fields.Select(f => new KeyValuePair<string, ConfigNode>(f.Key, Repath(f.Value, ConfigNode.FieldPath(path, f.Key), state))).ToList()),
        };
    }

    private sealed class State(string file, List<TenancyConfigError> errors)
    {
        private int _nodes;

        public Dictionary<string, ConfigNode> Anchors { get; } = new(StringComparer.Ordinal);

        public bool Failed { get; private set; }

        public void Count()
        {
            if (++_nodes > MaxNodes)
            {
                throw new TooComplexException();
            }
        }

        public ConfigNode Remember(AnchorName anchor, ConfigNode node)
        {
            if (!anchor.IsEmpty)
            {
                Anchors[anchor.Value] = node;
            }

            return node;
        }

        public void Error(string path, string reason, Mark at)
        {
            Failed = true;
            errors.Add(new TenancyConfigError(file, path, reason, (int)at.Line, (int)at.Column));
        }
    }

    private sealed class TooComplexException : Exception;
}
