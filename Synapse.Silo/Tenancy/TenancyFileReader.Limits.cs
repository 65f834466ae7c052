using System.Globalization;

namespace Synapse.Silo.Tenancy;

/// <summary>Limits and budgets, and the positive whole numbers they are made of.</summary>
internal sealed partial class TenancyFileReader
{
    private static readonly string[] LimitFields = ["rpm", "tpm", "max_parallel"];
    private static readonly string[] BudgetFields = ["tokens", "period"];

    private RateLimits? ReadLimits(ConfigNode node)
    {
        if (node.Kind == ConfigNodeKind.Null)
        {
            return null;
        }

        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping such as {{rpm: 600, tpm: 100000, max_parallel: 8}}, not {node.Describe()}");
            return null;
        }

        CheckFields(node, LimitFields, "limits");
        var rpm = Field(node, "rpm") is { } r ? Positive(r, int.MaxValue) : null;
        var tpm = Field(node, "tpm") is { } t ? Positive(t, long.MaxValue / 2) : null;
        var parallel = Field(node, "max_parallel") is { } p ? Positive(p, int.MaxValue) : null;
        var limits = new RateLimits((int?)rpm, tpm, (int?)parallel);
        return limits.IsEmpty ? null : limits;
    }

    private TokenBudget? ReadBudget(ConfigNode node)
    {
        if (node.Kind != ConfigNodeKind.Mapping)
        {
            Error(node, $"must be a mapping such as {{tokens: 1000000, period: month}}, not {node.Describe()}");
            return null;
        }

        CheckFields(node, BudgetFields, "budget");
        var tokensNode = Field(node, "tokens");
        var periodNode = Field(node, "period");
        long? tokens = null;
        if (tokensNode is null)
        {
            Error(node, "a budget needs 'tokens'");
        }
        else
        {
            tokens = Positive(tokensNode, long.MaxValue / 2);
        }

        BudgetPeriod? period = null;
        var periodText = periodNode is null ? null : Text(periodNode)?.Trim();
        if (periodNode is null || periodText is null)
        {
            Error(periodNode ?? node, "a budget needs a 'period': day, week or month");
        }
        else
        {
            period = periodText.ToUpperInvariant() switch
            {
                "DAY" => BudgetPeriod.Day,
                "WEEK" => BudgetPeriod.Week,
                "MONTH" => BudgetPeriod.Month,
                _ => null,
            };
            if (period is null)
            {
                Error(periodNode, $"the period must be day, week or month, not {ConfigText.Name(periodText)}");
            }
        }

        return tokens is { } t && period is { } p ? new TokenBudget(t, p) : null;
    }

    /// <summary>A positive whole number, not a string. Whole numbers written in exponent form (1e6) are accepted.</summary>
    private long? Positive(ConfigNode node, long max)
    {
        if (node.Kind != ConfigNodeKind.Scalar)
        {
            Error(node, $"must be a positive whole number, not {node.Describe()}");
            return null;
        }

        var text = node.Text!.Trim();
        if (node.IsString)
        {
            Error(node, "must be a number, not a string (write it without quotes)");
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                && Math.Floor(number) == number && Math.Abs(number) < 1e15)
            {
                value = (long)number;
            }
            else
            {
                Error(node, $"must be a positive whole number, not {ConfigText.Name(text)}");
                return null;
            }
        }

        if (value <= 0)
        {
            Error(node, value == 0 ? "must be positive (leave the field out for no limit)" : $"must be positive, not {value}");
            return null;
        }

        if (value > max)
        {
            Error(node, $"must be at most {max}");
            return null;
        }

        return value;
    }
}
