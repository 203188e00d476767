using System.ComponentModel;
using System.Globalization;
using MaskLab.Evaluation;
using MaskLab.Runs;
using MaskLab.Platform;

namespace MaskLab.Cli;

/// <summary>
/// Reads a typed option's text once, while the command line is parsed: a verb receives the library's type, and a bad
/// value is a one-line <see cref="MaskLabInputException"/> naming the option (Program.cs unwraps it from Spectre's).
/// </summary>
public abstract class OptionConverter<T> : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) => Parse((string)value);

    protected abstract T Parse(string text);
}

/// <summary><c>--device auto|cpu|cuda|cuda:N</c> as a <see cref="DeviceChoice"/>.</summary>
public sealed class DeviceOption : OptionConverter<DeviceChoice>
{
    public const string Template = "--device <DEVICE>";
    public const string Help = "auto (a GPU when a CUDA libtorch sees one, else the CPU), cpu, cuda or cuda:N";

    protected override DeviceChoice Parse(string text) => DeviceChoice.Parse(text);
}

/// <summary><c>--checkpoint best|last</c> as a <see cref="CheckpointChoice"/>.</summary>
public sealed class CheckpointOption : OptionConverter<CheckpointChoice>
{
    protected override CheckpointChoice Parse(string text) => text switch
    {
        "best" => CheckpointChoice.Best,
        "last" => CheckpointChoice.Last,
        _ => throw new MaskLabInputException($"--checkpoint '{text}' is not best or last"),
    };
}
