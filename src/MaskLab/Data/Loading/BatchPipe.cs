using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace MaskLab.Data.Loading;

/// <summary>
/// Batches made on a background thread, a bounded number ahead of the reader: what the loader's decoding and the
/// device prefetcher's pinning share. The source runs on the producer thread and is asked to stop (its token) when
/// the reader leaves; a source failure is kept and thrown at the reader once the batches before it are read.
/// </summary>
/// <remarks>
/// Ownership: each batch taken belongs to the reader; a batch the source made that was never written, and any left
/// unread when the pipe is disposed, are disposed here.
/// </remarks>
internal sealed class BatchPipe : IDisposable
{
    readonly Channel<Batch> _channel;
    readonly StrongBox<ExceptionDispatchInfo?> _failure = new();
    readonly CancellationTokenSource _stop = new();
    readonly Task _producer;

    BatchPipe(int depth, Func<CancellationToken, IEnumerable<Batch>> source)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depth);
        _channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(depth)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _producer = Task.Run(() => ProduceAsync(source(_stop.Token)));
    }

    /// <summary>Starts making <paramref name="source"/>'s batches, at most <paramref name="depth"/> ahead.</summary>
    public static BatchPipe Start(int depth, Func<CancellationToken, IEnumerable<Batch>> source) => new(depth, source);

    /// <summary>
    /// The next batch; null when none is ready and <paramref name="wait"/> is false, or when the source is done (then
    /// its failure, if any, is thrown).
    /// </summary>
    public Batch? Take(bool wait)
    {
        var reader = _channel.Reader;
        while (true)
        {
            if (reader.TryRead(out var batch)) return batch;
            if (!wait) return null;
            var ready = reader.WaitToReadAsync();
            bool more = ready.IsCompleted ? ready.Result : ready.AsTask().GetAwaiter().GetResult();
            if (!more)
            {
                _failure.Value?.Throw();
                return null;
            }
        }
    }

    async Task ProduceAsync(IEnumerable<Batch> source)
    {
        var stop = _stop.Token;
        try
        {
            foreach (var batch in source)
            {
                try { await _channel.Writer.WriteAsync(batch, stop).ConfigureAwait(false); }
                catch
                {
                    batch.Dispose();
                    throw;
                }
                stop.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _failure.Value = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _channel.Writer.TryComplete();
        }
    }

    /// <summary>Stops the source, waits for the producer (it catches everything itself) and disposes what was left unread.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _producer.GetAwaiter().GetResult();
        while (_channel.Reader.TryRead(out var left)) left.Dispose();
        _stop.Dispose();
    }
}
