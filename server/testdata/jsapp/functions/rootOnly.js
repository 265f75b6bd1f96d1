exports = function () {
  return "root";
};
