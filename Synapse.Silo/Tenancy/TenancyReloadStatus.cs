namespace Synapse.Silo.Tenancy;

/// <summary>
/// The last reading of the key-groups file, for <c>/status</c> and the status page: when, why, how it went and
/// which config is in force since. Holds no key (errors name keys by their place in the file).
/// </summary>
/// <param name="Fingerprint">The config in force after this reading (the previous one when it failed).</param>
/// <param name="Errors">Why the file was refused; empty when it was applied.</param>
public sealed record TenancyReloadStatus(
    DateTimeOffset At,
    TenancyReloadTrigger Trigger,
    TenancyLoadOutcome Outcome,
    string File,
    string Message,
    string Fingerprint,
    IReadOnlyList<TenancyConfigError> Errors);
