exports = function () {
  return "a private function ran";
};
