namespace MaskLab.Core;

/// <summary>
/// Bad input the user can fix (a file, folder or value). The CLI prints <see cref="Exception.Message"/> as one
/// line and exits 2; the message must name the file or value.
/// </summary>
public class MaskLabInputException(string message) : Exception(message)
{
    /// <summary>"<paramref name="key"/> value is not valid: why": a config value refused by the record that holds it.</summary>
    public static MaskLabInputException BadValue(string key, object value, string? why = null) =>
        new($"{key} {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)} is not valid{(why is null ? "" : ": " + why)}");
}
