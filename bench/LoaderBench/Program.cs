// Measures the image pipeline alone and beside a training step:
//   dotnet run -c Release --project bench/LoaderBench -- [--images N] [--size WxH] [--batch B] [--epochs E]
//       [--train MODEL] [--train-batches N] [--torch-threads T] [--keep DIR]
// Pin it to one core (taskset -c 0) to see what a single loader thread delivers while training holds the other.
// Prints results only; recorded figures belong in bench/ result files, written by whoever runs it on a quiet machine.
using System.Diagnostics;
using System.Runtime.InteropServices;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Platform;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

var opts = Args.Parse(args);
NativeSetup.Initialize(opts.TorchThreads);
Console.WriteLine($"cores visible: {Environment.ProcessorCount}, torch threads: {get_num_threads()}, size {opts.Width}x{opts.Height}, batch {opts.Batch}");

var dir = opts.Keep ?? Path.Combine(Path.GetTempPath(), "masklab-loaderbench");
var paths = Synthetic.EnsureJpegs(dir, opts.Images);
var samples = paths.Select((p, i) => new Sample(p, i % 18, $"p{i / 7}")).ToList();

// 1. Decode + resize, all cores (what Preload costs once per run).
var cache = new ImageCache(opts.Width, opts.Height);
var sw = Stopwatch.StartNew();
double cpuStart = Cpu.Process();
var bad = cache.Preload(paths);
double preloadCpu = Cpu.Process() - cpuStart;
sw.Stop();
Console.WriteLine($"preload: {paths.Count} JPEGs 384x512 -> {opts.Width}x{opts.Height} in {sw.Elapsed.TotalSeconds:F2} s = {paths.Count / sw.Elapsed.TotalSeconds:F0} img/s wall; cpu {preloadCpu * 1e3 / paths.Count:F2} ms/img = {paths.Count / preloadCpu:F0} img/s per core ({bad.Count} bad), cache {cache.CachedBytes / 1e6:F0} MB");

// 2. Augment + normalise alone, one thread, no tensors.
var output = new float[3 * opts.Width * opts.Height];
int reps = Math.Max(2000, paths.Count);
for (int warm = 0; warm < 200; warm++) Step(warm);
sw.Restart();
double cpu = Cpu.Thread();
for (int i = 0; i < reps; i++) Step(i);
cpu = Cpu.Thread() - cpu;
sw.Stop();
Console.WriteLine($"augment+normalise (Default), 1 thread: wall {sw.Elapsed.TotalMicroseconds / reps:F0} us/img, cpu {cpu * 1e6 / reps:F0} us/img = {reps / cpu:F0} img/s per core");
sw.Restart();
cpu = Cpu.Thread();
for (int i = 0; i < reps; i++)
{
    cache.TryGet(paths[i % paths.Count], out var rgb);
    Augmentation.Normalize(rgb.Span, opts.Width, opts.Height, output, ImageNormalization.Task);
}
cpu = Cpu.Thread() - cpu;
sw.Stop();
Console.WriteLine($"normalise only, 1 thread: wall {sw.Elapsed.TotalMicroseconds / reps:F0} us/img, cpu {cpu * 1e6 / reps:F0} us/img = {reps / cpu:F0} img/s per core");

// 3. The loader alone: the consumer takes each batch and disposes it.
var indices = Enumerable.Range(0, samples.Count).ToArray();
var loader = new BatchLoader(samples, indices, s => s.Label, cache,
    new LoaderOptions(opts.Batch, Shuffle: true, AugmentOptions.Default, Seed: 42, DropLast: true, opts.Width, opts.Height));
foreach (var b in loader.Epoch(-1)) b.Dispose();
for (int e = 0; e < opts.Epochs; e++)
{
    sw.Restart();
    double c0 = Cpu.Process();
    int n = 0, images = 0;
    foreach (var b in loader.Epoch(e)) using (b) { n++; images += b.Count; }
    double c = Cpu.Process() - c0;
    sw.Stop();
    Console.WriteLine($"loader alone, epoch {e}: {n} batches in {sw.Elapsed.TotalSeconds:F2} s wall = {n / sw.Elapsed.TotalSeconds:F1} batches/s = {images / sw.Elapsed.TotalSeconds:F0} img/s; process cpu {c:F2} s = {n / c:F1} batches/s per core");
}

// 4. Training beside the loader, against training on one batch made up front.
if (opts.Train is { } modelName)
{
    var model = ModelRegistry.Create(modelName, new ModelSpec(18, opts.Width, opts.Height));
    model.train();
    var optimizer = optim.SGD(model.parameters(), 1e-3, momentum: 0.9);
    void Train(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(x), y);
        loss.backward();
        optimizer.step();
    }

    // Rounds alternate between the two ways so that a change in the machine's load hits both alike.
    using var fixedBatch = loader.Epoch(0).First();
    for (int i = 0; i < 3; i++) Train(fixedBatch.Images, fixedBatch.Labels);
    double fixedSeconds = 0, fedSeconds = 0, waitSeconds = 0;
    int rounds = 3, perRound = Math.Max(1, opts.TrainBatches / rounds), epochNo = 100;
    for (int round = 0; round < rounds; round++)
    {
        sw.Restart();
        for (int i = 0; i < perRound; i++) Train(fixedBatch.Images, fixedBatch.Labels);
        fixedSeconds += sw.Elapsed.TotalSeconds;

        sw.Restart();
        var wait = new Stopwatch();
        int done = 0;
        while (done < perRound)
        {
            using var epoch = loader.Epoch(epochNo++).GetEnumerator();
            while (done < perRound)
            {
                wait.Start();
                bool more = epoch.MoveNext();
                wait.Stop();
                if (!more) break;
                using (var b = epoch.Current) Train(b.Images, b.Labels);
                done++;
            }
        }
        fedSeconds += sw.Elapsed.TotalSeconds;
        waitSeconds += wait.Elapsed.TotalSeconds;
    }
    int trained = rounds * perRound * opts.Batch;
    Console.WriteLine($"train {modelName}, no loader: {trained / fixedSeconds:F1} img/s");
    Console.WriteLine($"train {modelName}, fed by the loader: {trained / fedSeconds:F1} img/s; waiting for batches {100 * waitSeconds / fedSeconds:F1} % of the time (includes each epoch's first batch)");
}

void Step(int i)
{
    cache.TryGet(paths[i % paths.Count], out var rgb);
    Augmentation.Apply(rgb.Span, opts.Width, opts.Height, output, opts.Width, opts.Height, AugmentOptions.Default,
        ImageNormalization.Task, 42, 0, i);
}

static class Cpu
{
    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds, Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    static double Read(int clock) => ClockGetTime(clock, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;

    /// <summary>CPU seconds of this process (all threads) and of the calling thread: immune to other jobs on the machine.</summary>
    public static double Process() => Read(2);
    public static double Thread() => Read(3);
}

sealed record Args(int Images, int Width, int Height, int Batch, int Epochs, string? Train, int TrainBatches, int? TorchThreads, string? Keep)
{
    public static Args Parse(string[] args)
    {
        var a = new Args(2000, 96, 128, 32, 3, null, 40, null, null);
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            a = args[i] switch
            {
                "--images" => a with { Images = int.Parse(Next()) },
                "--size" => Next().Split('x') is [var w, var h] ? a with { Width = int.Parse(w), Height = int.Parse(h) } : throw new ArgumentException("--size WxH"),
                "--batch" => a with { Batch = int.Parse(Next()) },
                "--epochs" => a with { Epochs = int.Parse(Next()) },
                "--train" => a with { Train = Next() },
                "--train-batches" => a with { TrainBatches = int.Parse(Next()) },
                "--torch-threads" => a with { TorchThreads = int.Parse(Next()) },
                "--keep" => a with { Keep = Next() },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }
        return a;
    }
}

static class Synthetic
{
    /// <summary>Portrait-sized JPEGs with smooth shading and grain, so that they decode like photos, not flat fills.</summary>
    public static IReadOnlyList<string> EnsureJpegs(string dir, int count)
    {
        Directory.CreateDirectory(dir);
        var paths = new string[count];
        Parallel.For(0, count, i =>
        {
            var path = paths[i] = Path.Combine(dir, $"img{i:D5}.jpg");
            if (File.Exists(path)) return;
            using var bitmap = new SKBitmap(new SKImageInfo(384, 512, SKColorType.Rgba8888, SKAlphaType.Premul));
            var px = bitmap.GetPixelSpan();
            var rng = new Random(i);
            int cx = rng.Next(100, 284), cy = rng.Next(150, 360), tint = rng.Next(256);
            for (int y = 0; y < 512; y++)
                for (int x = 0; x < 384; x++)
                {
                    int o = y * bitmap.RowBytes + 4 * x;
                    int d = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) >> 9;
                    int grain = rng.Next(-12, 13);
                    px[o] = (byte)Math.Clamp(tint - d + grain, 0, 255);
                    px[o + 1] = (byte)Math.Clamp(180 - d / 2 + grain + y / 8, 0, 255);
                    px[o + 2] = (byte)Math.Clamp(90 + x / 3 + grain, 0, 255);
                    px[o + 3] = 255;
                }
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(path, data.ToArray());
        });
        return paths;
    }
}
