using System.Collections.Concurrent;
using System.Net.WebSockets;
using Synapse.Grains.Agents;
using Synapse.Grains.Models;
using Synapse.Grains.Responses;
using Synapse.Protocol;
using Synapse.Protocol.Frames;
using Synapse.Protocol.Messages;
using Synapse.Protocol.Transport;
using Synapse.Silo.Api.Errors;

namespace Synapse.Silo.Agents;

/// <summary>The socket's models in their grains: registered, refreshed as a lease while the socket lives, withdrawn.</summary>
internal sealed partial class AgentSession
{
    private InstanceRegistration BuildRegistration(string model)
    {
        var hello = _hello!;
        _models.TryGetValue(model, out var metadata);
        return new InstanceRegistration
        {
            Model = model,
            AgentId = hello.AgentId,
            ConnectionId = ConnectionId,
            Silo = _services.Silo,
            Name = hello.Name,
            Hostname = hello.Hostname,
            Capacity = hello.Capacity,
            MetadataJson = metadata ?? "{}",
            ActiveRequests = [.. _requests.Values.Where(r => r.Model == model).Select(r => r.Id)],
            Draining = _agentDraining || _goAwaySent,
            AgentVersion = hello.ProductVersion,
            ConnectedAt = ConnectedAt,
            Engine = EngineSignals.TryGet(model, out var engine) ? engine : null,
            Group = Group,
        };
    }

    /// <summary>
    /// Registers the socket's models as soon as it is up, retrying soon while the grains cannot be reached (the
    /// model grain's silo just died); from then on <see cref="RegistrationRefresher"/> refreshes them with every other
    /// socket of this silo.
    /// </summary>
    private async Task PublishUntilDoneAsync(CancellationToken aborted)
    {
        try
        {
            while (!aborted.IsCancellationRequested && !await PublishRegistrationsAsync())
            {
                await Task.Delay(_services.Options.RegistrationRetryDelay, aborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// For the silo's batched refresh: this socket's registrations, with its registration lock held until
    /// <see cref="EndRefresh"/>, so a withdrawal (a model gone, the socket closed) is never overtaken by a refresh
    /// built before it. Null when the socket is not active or a publication of its own is under way (which refreshes it).
    /// </summary>
    internal InstanceRegistration[]? TryBeginRefresh()
    {
        try
        {
            if (Volatile.Read(ref _state) != Active || !_registrationLock.Wait(0))
            {
                return null;
            }
        }
        catch (ObjectDisposedException)
        {
            return null;
        }

        if (Volatile.Read(ref _state) != Active)
        {
            _registrationLock.Release();
            return null;
        }

        return [.. _models.Keys.Select(BuildRegistration)];
    }

    internal void EndRefresh()
    {
        try
        {
            _registrationLock.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Upserts this socket's models into their grains and withdraws the ones it no longer serves.</summary>
    private async Task<bool> PublishRegistrationsAsync()
    {
        if (Volatile.Read(ref _state) != Active)
        {
            return true;
        }

        await _registrationLock.WaitAsync();
        try
        {
            if (Volatile.Read(ref _state) != Active)
            {
                return true;
            }

            var models = _models;
            var removed = _registeredModels.Where(m => !models.ContainsKey(m)).ToArray();
            var calls = new List<Task>(models.Count + removed.Length);
            foreach (var model in models.Keys)
            {
                calls.Add(_services.ModelGrain(Group, model).Register(BuildRegistration(model)));
            }

            foreach (var model in removed)
            {
                calls.Add(_services.ModelGrain(Group, model).Unregister(AgentId, ConnectionId));
            }

            var published = true;
            try
            {
                await Task.WhenAll(calls);
            }
            catch (Exception ex)
            {
                published = false;
                LogRegistrationFailed(_services.Logger, ex, AgentId);
            }

            _registeredModels.Clear();
            _registeredModels.UnionWith(models.Keys);
            return published;
        }
        finally
        {
            _registrationLock.Release();
        }
    }
}
