using MaskLab.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class DevicePrefetcherTests
{
    /// <summary>Batches whose pixels and labels say which one they are; records what was made and whether the enumerator was closed.</summary>
    sealed class Source
    {
        public readonly List<Batch> Made = [];
        public bool Closed;
        public int FailAfter = -1;

        public IEnumerable<Batch> Batches(int count)
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    if (i == FailAfter) throw new MaskLabInputException($"bad image in batch {i}");
                    var batch = new Batch(full(new long[] { 2, 3, 4, 4 }, (float)i), tensor(new long[] { i, i + 100 }), [2 * i, 2 * i + 1]);
                    if (i % 2 == 1) batch.SoftTargets = full(new long[] { 2, 5 }, 0.2f);
                    Made.Add(batch);
                    yield return batch;
                }
            }
            finally { Closed = true; }
        }
    }

    [Fact]
    public void OnTheCpuTheBatchesPassThroughUntouched()
    {
        var source = new Source().Batches(3);
        Assert.Same(source, DevicePrefetcher.ToDevice(source, CPU));
    }

    [Fact]
    public void StagedBatchesComeInOrderWithTheSameContents()
    {
        var source = new Source();
        int n = 0;
        foreach (var batch in DevicePrefetcher.Staged(source.Batches(7), CPU, pin: false))
        {
            using (batch)
            {
                Assert.Equal(new[] { 2 * n, 2 * n + 1 }, batch.SampleIndices);
                Assert.Equal(new long[] { n, n + 100 }, batch.Labels.data<long>().ToArray());
                Assert.Equal([2, 3, 4, 4], batch.Images.shape);
                Assert.All(batch.Images.data<float>().ToArray(), v => Assert.Equal(n, v));
                Assert.Equal(n % 2 == 1, batch.SoftTargets is not null);
                // The source's batch was released once its copy was issued; this one stands alone.
                Assert.True(source.Made[n].Images.IsInvalid);
            }
            n++;
        }
        Assert.Equal(7, n);
        Assert.True(source.Closed);
        Assert.All(source.Made, b => Assert.True(b.Images.IsInvalid && b.Labels.IsInvalid));
    }

    [Fact]
    public void LeavingEarlyReleasesWhatWasTakenAndClosesTheSource()
    {
        var source = new Source();
        var received = new List<Batch>();
        foreach (var batch in DevicePrefetcher.Staged(source.Batches(20), CPU, pin: false, depth: 2))
        {
            received.Add(batch);
            if (received.Count == 2) break;
        }
        Assert.True(source.Closed);
        // Taken from the source but never handed out: disposed here. Handed out: the consumer's to dispose.
        Assert.True(source.Made.Count < 20);
        Assert.All(source.Made, b => Assert.True(b.Images.IsInvalid));
        Assert.All(received, b => Assert.False(b.Images.IsInvalid));
        foreach (var b in received) b.Dispose();
    }

    [Fact]
    public void AFailureInTheSourceSurfacesWhereItsBatchWouldHaveBeen()
    {
        var source = new Source { FailAfter = 3 };
        var seen = new List<long>();
        var e = Assert.Throws<MaskLabInputException>(() =>
        {
            foreach (var batch in DevicePrefetcher.Staged(source.Batches(6), CPU, pin: false))
                using (batch) seen.Add(batch.Labels[0].item<long>());
        });
        Assert.Equal("bad image in batch 3", e.Message);
        Assert.Equal(new long[] { 0, 1, 2 }, seen);
        Assert.All(source.Made, b => Assert.True(b.Images.IsInvalid));
    }
}
