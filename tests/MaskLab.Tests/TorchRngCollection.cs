namespace MaskLab.Tests;

/// <summary>
/// Tests that read torch's global generator: run alone, since any training test running beside them (each
/// Trainer seeds and draws from that same generator) would change the numbers between save and restore.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRngCollection
{
    public const string Name = "torch global RNG";
}
