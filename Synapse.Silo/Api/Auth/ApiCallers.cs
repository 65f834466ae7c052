using Synapse.Silo.Tenancy;

namespace Synapse.Silo.Api.Auth;

/// <summary>
/// Who is calling, as the key groups in force say (<see cref="TenancyConfigSource"/>): authenticated once per request
/// and kept on it, so the whole request sees one caller, whatever a reload does meanwhile.
/// </summary>
internal static class ApiCallers
{
    /// <summary>The request's caller; null when its key is missing or unknown (answer 401).</summary>
    public static CallerIdentity? Authenticate(HttpContext context)
    {
        if (context.Features.Get<CallerFeature>() is { } known)
        {
            return known.Caller;
        }

        var caller = context.RequestServices.GetRequiredService<TenancyConfigSource>().Current.AuthenticateApiCaller(context.Request);
        if (caller is not null)
        {
            context.Features.Set(new CallerFeature(caller));
        }

        return caller;
    }

    /// <summary>The caller the API gate admitted (every <c>/v1</c> route runs behind it).</summary>
    public static CallerIdentity Caller(this HttpContext context) =>
        context.Features.Get<CallerFeature>()?.Caller ?? throw new InvalidOperationException("No caller: the API gate did not run.");

    private sealed record CallerFeature(CallerIdentity Caller);
}
