using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>
/// Moves a loader's batches onto the training device ahead of use. On the CPU it hands the batches through
/// untouched. On a GPU a background thread copies each batch into pinned (page-locked) host memory, and the copy
/// to the device is issued non-blocking as soon as the pinned batch is ready, so the host never waits for a
/// transfer and the next batch's copy is queued while the current one computes.
/// </summary>
/// <remarks>
/// <para>TorchSharp 0.107 exposes no CUDA streams, so the copies run on the same stream as the kernels: the host
/// is free during a transfer, the GPU executes it between the kernels it was queued among. A step launched from the
/// host keeps the GPU waiting for kernels anyway at this model size, which is the gap the copy fills.</para>
/// <para>A pinned host batch is released right after its copy is issued: libtorch's pinned-memory allocator records
/// the copy and does not hand the block out again until the copy is done.</para>
/// <para>Ownership follows <see cref="BatchLoader"/>: the consumer disposes each batch it receives; batches taken
/// from the source are disposed here once copied, and any left when the loop is abandoned are disposed with the
/// source's enumerator.</para>
/// </remarks>
internal static class DevicePrefetcher
{
    /// <summary>The batches on <paramref name="device"/>: the same enumerable on the CPU, staged copies on a GPU.</summary>
    public static IEnumerable<Batch> ToDevice(IEnumerable<Batch> batches, Device device)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(device);
        return device.type == DeviceType.CPU ? batches : Staged(batches, device, pin: true);
    }

    /// <summary>
    /// The staged path: a background thread takes batches from <paramref name="batches"/> (pinning them when
    /// <paramref name="pin"/>), the caller's thread issues each copy to <paramref name="device"/>.
    /// <paramref name="depth"/> host batches may wait between the two.
    /// </summary>
    internal static IEnumerable<Batch> Staged(IEnumerable<Batch> batches, Device device, bool pin, int depth = 2)
    {
        using var pipe = BatchPipe.Start(depth, _ => pin ? PinnedAll(batches) : batches);
        Batch? next = null;
        try
        {
            next = Take(pipe, device, wait: true);
            while (next is not null)
            {
                var current = next;
                next = null;
                next = Take(pipe, device, wait: false);
                yield return current;
                next ??= Take(pipe, device, wait: true);
            }
        }
        finally
        {
            next?.Dispose();
        }
    }

    /// <summary>Each batch copied to pinned memory, the source's own released once copied.</summary>
    static IEnumerable<Batch> PinnedAll(IEnumerable<Batch> batches)
    {
        // Disposing the source's enumerator (leaving this loop) stops a BatchLoader's own producer.
        foreach (var batch in batches)
        {
            Batch pinned;
            try { pinned = Pinned(batch); }
            finally { batch.Dispose(); }
            yield return pinned;
        }
    }

    /// <summary>The next host batch issued to the device, or null when none is ready (no wait) or none is left.</summary>
    static Batch? Take(BatchPipe pipe, Device device, bool wait)
    {
        if (pipe.Take(wait) is not { } host) return null;
        using (host) return Issue(host, device);
    }

    static Batch Issue(Batch host, Device device)
    {
        Tensor? images = null, labels = null;
        try
        {
            // The batch owns its tensors, so a DisposeScope the consumer has open must not take them.
            images = host.Images.to(device, non_blocking: true).DetachFromDisposeScope();
            labels = host.Labels.to(device, non_blocking: true).DetachFromDisposeScope();
            var batch = new Batch(images, labels, host.SampleIndices);
            images = labels = null;
            if (host.SoftTargets is { } soft) batch.SoftTargets = soft.to(device, non_blocking: true).DetachFromDisposeScope();
            if (host.AuxTargets is { } aux) batch.AuxTargets = aux.to(device, non_blocking: true).DetachFromDisposeScope();
            return batch;
        }
        catch
        {
            images?.Dispose();
            labels?.Dispose();
            throw;
        }
    }

    /// <summary>A copy of the batch in page-locked host memory, which the GPU can read without a staging copy.</summary>
    static Batch Pinned(Batch batch)
    {
        var images = batch.Images.pin_memory().DetachFromDisposeScope();
        Tensor labels;
        try { labels = batch.Labels.pin_memory().DetachFromDisposeScope(); }
        catch { images.Dispose(); throw; }
        var pinned = new Batch(images, labels, batch.SampleIndices);
        if (batch.SoftTargets is { } soft) pinned.SoftTargets = soft.pin_memory().DetachFromDisposeScope();
        if (batch.AuxTargets is { } aux) pinned.AuxTargets = aux.pin_memory().DetachFromDisposeScope();
        return pinned;
    }
}
