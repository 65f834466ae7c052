using Microsoft.Extensions.Options;

namespace Synapse.Silo.Hosting;

/// <summary>
/// Binds an options class once, validates it at once, and registers that object as its <see cref="IOptions{T}"/>: what
/// configures Kestrel and Orleans at build time is then exactly what the services see, and an invalid value stops the
/// start with every reason, before anything listens.
/// </summary>
internal static class ValidatedOptions
{
    public static T Add<T>(WebApplicationBuilder builder, string section, IValidateOptions<T> validator)
        where T : class, new()
    {
        var value = new T();
        builder.Configuration.GetSection(section).Bind(value);
        var result = validator.Validate(Options.DefaultName, value);
        if (result.Failed)
        {
            throw new OptionsValidationException(section, typeof(T), result.Failures);
        }

        builder.Services.AddSingleton(Options.Create(value));
        return value;
    }
}
