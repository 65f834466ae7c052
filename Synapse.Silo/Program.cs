using Synapse.Silo.Hosting;

return await GatewayCommandLine.InvokeAsync(args, (settings, _) => GatewayHost.RunAsync(settings));
